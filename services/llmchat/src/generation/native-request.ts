import type {
  ChatMessage,
  Constraint,
  GenerationResult,
  GenerationTimings,
  SamplingOptions,
  ScoringResult,
  ToolCalling,
  ToolDefinition,
} from '../engine/types.js';
import type { ContextOverflow } from './prepare-job.js';

/**
 * A generation as every protocol asks for it, free of any wire format: each
 * protocol's converter builds one from its request (protocols/*), and the
 * generator (generator.ts) runs it. A new protocol adds a converter, never a
 * pipeline.
 */
export interface NativeChatRequest {
  /** The name or alias the client used. */
  model: string;
  /**
   * A conversation rendered with the model's chat template (tools described in
   * it), a raw prompt evaluated as is after the model's BOS token, or token ids
   * evaluated exactly as given.
   */
  prompt:
    | { kind: 'chat'; messages: ChatMessage[]; tools: ToolDefinition[] }
    | { kind: 'raw'; text: string }
    | { kind: 'tokens'; tokens: number[] };
  /** Token ids of an earlier exchange this prompt continues (Ollama's `context`). */
  context?: number[];
  /** Tokens the answer may have; absent: until the context is full. */
  maxTokens?: number;
  /** A smaller context window than the model's, for prompt + answer (Ollama's num_ctx). */
  contextWindow?: number;
  sampling: SamplingOptions;
  /** Text that ends the answer (not included in it). */
  stop: string[];
  /** What the whole answer must follow (JSON, a JSON schema). */
  constraint?: Constraint;
  /** Tools the model may or must call (a subset of those described in the prompt). */
  tools?: ToolCalling;
  /**
   * A prompt longer than the context: `error` (400) or `truncate` (drop the oldest turns);
   * absent: the service's LLMCHAT_CONTEXT_OVERFLOW. The Responses API's `truncation`.
   */
  contextOverflow?: ContextOverflow;
  /** How long the model stays loaded after this request (Ollama's keep_alive), ms. */
  keepAliveMs?: number;
  /** Each generated token's log-probability, with the `top` likeliest alternatives (0–20). */
  logprobs?: { top: number };
  /** Answers to generate from the one prompt (OpenAI's `n`); 1 when absent. */
  choices?: number;
}

/** A finished generation with the time it spent in each stage, as protocols report it. */
export interface FinishedGeneration extends GenerationResult {
  /** The model's id (its name, even when the request used an alias). */
  modelId: string;
  /** The prompt's token ids as evaluated (with `outputTokens`, Ollama's `context`). */
  promptTokenIds: readonly number[];
  timings: GenerationTimings & {
    /** Waiting for the model to load (0 when it was loaded). */
    loadMs: number;
    /** Waiting for a sequence. */
    queueMs: number;
    /** From submission to the last token. */
    totalMs: number;
  };
}

/**
 * Questions whose answers are weighed rather than generated (the Decisions API), free of
 * any wire format: after the shared conversation, each question is asked as a user turn and
 * each of its answers scored as the assistant's whole reply.
 */
export interface NativeScoringRequest {
  model: string;
  /** The conversation every question is asked after (its KV state is shared). */
  messages: ChatMessage[];
  questions: Array<{ ask: string; answers: string[] }>;
  keepAliveMs?: number;
}

/** Scores with the time spent in each stage. */
export interface FinishedScoring extends ScoringResult {
  modelId: string;
  timings: { loadMs: number; queueMs: number; totalMs: number };
}
