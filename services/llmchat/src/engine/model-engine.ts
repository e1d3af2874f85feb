import type { Token } from 'node-llama-cpp';
import type { RenderedPrompt } from './chat-prompt.js';
import type { Priority } from './scheduler.js';
import type {
  ChatMessage,
  GenerationJob,
  GenerationResult,
  GenerationSink,
  ScoringJob,
  ScoringResult,
  ToolDefinition,
} from './types.js';

/** What `/health` and `/v1/models` tell about a loaded model. */
export interface ModelInfo {
  id: string;
  aliases: string[];
  path: string;
  size_bytes: number;
  architecture: string | undefined;
  context_size: number;
  train_context_size: number | undefined;
  parallel: number;
  /** The process's thread budget, and how each batch's share is chosen. */
  threads: number;
  thread_policy: 'auto' | 'fixed';
  gpu: string | false;
  flash_attention: boolean | 'auto';
  /** `prebuilt` (node-llama-cpp's binaries) or `localBuild` (`pnpm --filter llmchat build:addon`). */
  binary: string;
  chat_template: string;
  estimated_ram_bytes: number;
}

/** A job's place with a model's scheduler (scheduler.ts); `release()` gives back whatever it holds. */
export interface JobReservation {
  /** Resolves with the milliseconds waited once a sequence is free for the job. */
  waitForTurn(): Promise<number>;
  /**
   * Aborted, with a `PreemptedError`, when the scheduler takes a preemptible batch job's
   * sequences back for an interactive job.
   */
  readonly preempted: AbortSignal;
  release(): void;
}

/** A job whose constraints are compiled, for the engine that prepared it. */
export interface PreparedJob {
  readonly job: GenerationJob;
}

/**
 * One loaded model as the generation layer and the routes use it. LlamaEngine
 * is the real one; tests script a fake (__fixtures__/scripted-engine.ts), so
 * the whole app runs without weights.
 */
export interface ModelEngine {
  readonly info: ModelInfo;
  readonly contextSize: number;
  /** The model's beginning-of-sequence token, when it has one. */
  readonly bosToken: Token | undefined;
  /** Token ids run from 0 to this size - 1. */
  readonly vocabularySize: number;
  /** The model's own chat template (Jinja) when its GGUF has one, else the wrapper's name. */
  readonly chatTemplate: string;
  /** Jobs generating, waiting and refused on this model. */
  readonly queue: { running: number; waiting: number; rejected: number };
  /** The share of the KV cache that running jobs hold, 0–1. */
  readonly kvCacheUsage: number;

  renderChat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): RenderedPrompt;
  tokenize(text: string, specialTokens?: boolean): Token[];
  detokenize(tokens: readonly Token[]): string;
  /** The GGUF metadata as flat `a.b.c` keys (Ollama's model_info). */
  ggufSummary(): Record<string, unknown>;

  /** A place in the model's queue, taken before the job is prepared; throws `QueueFullError` when full. */
  reserve(options: {
    priority?: Priority;
    signal?: AbortSignal;
    sequences?: number;
    /** A batch job that gives its sequences to an interactive job that finds none free. */
    preemptible?: boolean;
  }): JobReservation;
  /**
   * Compiles the job's constraints (cached; `InvalidSchemaError` when a schema is
   * broken), then builds the job: a broken schema is reported before the prompt
   * is rendered (a prompt too long for the context).
   */
  prepare(
    constraints: Pick<GenerationJob, 'constraint' | 'tools'>,
    job: () => GenerationJob,
  ): Promise<PreparedJob>;
  /**
   * For a reservation of several sequences (n choices): evaluates the prompt once, copies its
   * KV state to every choice's sequence, and generates them together, each into its sink.
   */
  runChoices(
    reservation: JobReservation,
    prepared: PreparedJob,
    sinks: readonly GenerationSink[],
    signal: AbortSignal,
  ): Promise<GenerationResult[]>;
  /** Waits for the reservation's turn and generates; stops at the next token once `signal` aborts. */
  run(
    reservation: JobReservation,
    prepared: PreparedJob,
    sink: GenerationSink,
    signal: AbortSignal,
  ): Promise<GenerationResult>;
  /** An answer's tokens as the model would write them right after a rendered chat prompt. */
  answerTokens(text: string): Token[];
  /** The token that ends the model's turn after `prompt` (the template's, else end-of-sequence). */
  turnEnd(prompt: RenderedPrompt): Token | undefined;
  /**
   * Waits for the reservation's turn, then weighs every question's answers on one sequence
   * (engine/score.ts); stops between reads once `signal` aborts.
   */
  score(reservation: JobReservation, job: ScoringJob, signal: AbortSignal): Promise<ScoringResult>;
  /** Waits for the round in progress, then frees the model. */
  dispose(): Promise<void>;
}
