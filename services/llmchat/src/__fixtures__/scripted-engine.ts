import type { Token } from 'node-llama-cpp';
import type { RenderedPrompt } from '../engine/chat-prompt.js';
import type {
  JobReservation,
  ModelEngine,
  ModelInfo,
  PreparedJob,
} from '../engine/model-engine.js';
import { type Priority, SequenceScheduler } from '../engine/scheduler.js';
import { type CachedSequence, SequencePool } from '../engine/sequence-pool.js';
import type {
  ChatMessage,
  GenerationJob,
  GenerationResult,
  GenerationSink,
  ScoringJob,
  ScoringResult,
  ToolDefinition,
} from '../engine/types.js';
import type { LoadedModel } from '../models/model-manager.js';
import type { ModelLoader } from '../models/residency.js';

/** What a scripted model answers: text pieces, one per "token", then maybe a failure. */
export interface Script {
  /** The answer's pieces, one per generated token. */
  pieces: string[];
  /** Fail with this error after the pieces instead of finishing. */
  failWith?: Error;
  /** Wait this long before each piece (lets tests disconnect or queue up mid-answer). */
  pieceDelayMs?: number;
}

class ScriptedSequence implements CachedSequence {
  tokens: Token[] = [];
  truncate(length: number): void {
    this.tokens = this.tokens.slice(0, length);
  }
}

/**
 * A model engine that "generates" a script, with the real scheduler over fake
 * sequences: the whole app (protocols, routes, generation, queueing, errors)
 * runs in tests without weights. Prompts "tokenize" to one token per character.
 */
export class ScriptedEngine implements ModelEngine {
  readonly info: ModelInfo;
  readonly contextSize: number;
  readonly bosToken = undefined;
  readonly vocabularySize = 0x10000;
  readonly chatTemplate = 'scripted';
  /** Jobs the engine ran, in order (tests read what the converters asked for). */
  readonly jobs: GenerationJob[] = [];
  private readonly scheduler: SequenceScheduler<ScriptedSequence>;

  constructor(
    readonly script: (job: GenerationJob) => Script,
    options: { id: string; contextSize?: number; parallel?: number; maxWaiting?: number },
  ) {
    this.contextSize = options.contextSize ?? 4096;
    const parallel = options.parallel ?? 2;
    const sequences = Array.from({ length: parallel }, () => new ScriptedSequence());
    this.scheduler = new SequenceScheduler(new SequencePool(sequences), parallel, {
      maxWaiting: options.maxWaiting ?? 4,
      maxWaitMs: 60_000,
      retryAfterSeconds: 1,
    });
    this.info = {
      id: options.id,
      aliases: [],
      path: '/scripted',
      size_bytes: 0,
      architecture: 'scripted',
      context_size: this.contextSize,
      train_context_size: undefined,
      parallel,
      threads: 1,
      thread_policy: 'auto',
      gpu: false,
      flash_attention: false,
      binary: 'scripted',
      chat_template: 'scripted',
      estimated_ram_bytes: 0,
    };
  }

  /** A scripted model has no KV cache. */
  readonly kvCacheUsage = 0;

  get queue() {
    return {
      running: this.scheduler.running,
      waiting: this.scheduler.queued,
      rejected: this.scheduler.rejected,
    };
  }

  renderChat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): RenderedPrompt {
    const text = [
      ...tools.map((tool) => `tool ${tool.name}`),
      ...messages.map((message) => `${message.role}: ${message.content}`),
      'assistant:',
    ].join('\n');
    return { tokens: this.tokenize(text), stopStrings: [], stopTokens: [] };
  }

  tokenize(text: string): Token[] {
    return [...text].map((character) => (character.codePointAt(0) ?? 0) as Token);
  }

  detokenize(tokens: readonly Token[]): string {
    return String.fromCodePoint(...tokens);
  }

  ggufSummary(): Record<string, unknown> {
    return { 'general.architecture': 'scripted' };
  }

  reserve(options: {
    priority?: Priority;
    signal?: AbortSignal;
    sequences?: number;
    preemptible?: boolean;
  }): JobReservation {
    return this.scheduler.reserve(options);
  }

  async prepare(
    _constraints: Pick<GenerationJob, 'constraint' | 'tools'>,
    job: () => GenerationJob,
  ): Promise<PreparedJob> {
    return { job: job() };
  }

  async run(
    reservation: JobReservation,
    prepared: PreparedJob,
    sink: GenerationSink,
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    const { job } = prepared;
    const own = this.scheduler.own(reservation);
    if (!own) throw new Error("run() takes a reservation from this engine's reserve()");
    const turn = await own.acquire(job.promptTokens);
    this.jobs.push(job);
    const result = await this.play(job, sink, signal);
    turn.sequence.tokens = [...job.promptTokens];
    return {
      ...result,
      timings: {
        ...result.timings,
        promptEvaluated: turn.input.length,
        promptCached: turn.reusedTokens,
      },
    };
  }

  /** Each choice plays the script into its sink, together; the first counts the prompt. */
  async runChoices(
    reservation: JobReservation,
    prepared: PreparedJob,
    sinks: readonly GenerationSink[],
    signal: AbortSignal,
  ): Promise<GenerationResult[]> {
    const { job } = prepared;
    const own = this.scheduler.own(reservation);
    if (!own) throw new Error("runChoices() takes a reservation from this engine's reserve()");
    await own.acquire(job.promptTokens);
    own.takeSiblings(job.promptTokens);
    this.jobs.push(job);
    const results = await Promise.all(sinks.map((sink) => this.play(job, sink, signal)));
    return results.map((result, index) =>
      index === 0 ? result : { ...result, sharedPrompt: true },
    );
  }

  private async play(
    job: GenerationJob,
    sink: GenerationSink,
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    const script = this.script(job);
    const startedAt = performance.now();
    let firstAt: number | undefined;
    let text = '';
    let count = 0;
    let finishReason: GenerationResult['finishReason'] = 'stop';
    for (const piece of script.pieces) {
      if (script.pieceDelayMs)
        await new Promise((resolve) => setTimeout(resolve, script.pieceDelayMs));
      if (signal.aborted) break;
      if (count >= job.maxTokens) {
        finishReason = 'length';
        break;
      }
      firstAt ??= performance.now();
      count += 1;
      text += piece;
      sink.text(piece);
    }
    if (script.failWith && !signal.aborted) throw script.failWith;
    const endedAt = performance.now();
    return {
      finishReason,
      text,
      toolCalls: [],
      promptTokens: job.promptTokens.length,
      completionTokens: count,
      outputTokens: this.tokenize(text),
      timings: {
        promptEvaluated: job.promptTokens.length,
        promptCached: 0,
        timeToFirstTokenMs: (firstAt ?? endedAt) - startedAt,
        decodeMs: firstAt === undefined ? 0 : endedAt - firstAt,
      },
    };
  }

  /** One token per character. */
  answerTokens(text: string): Token[] {
    return this.tokenize(text);
  }

  /** 0 ends a scripted turn. */
  turnEnd(): Token {
    return 0 as Token;
  }

  /** Scores each answer as minus its length (shorter is likelier), on a sequence of the scheduler. */
  async score(
    reservation: JobReservation,
    job: ScoringJob,
    signal: AbortSignal,
  ): Promise<ScoringResult> {
    const own = this.scheduler.own(reservation);
    if (!own) throw new Error("score() takes a reservation from this engine's reserve()");
    await own.acquire(job.questions[0]?.promptTokens ?? []);
    signal.throwIfAborted();
    const prompts = job.questions.reduce((sum, question) => sum + question.promptTokens.length, 0);
    const answers = job.questions.flatMap((question) => question.answers);
    const answerTokens = answers.reduce((sum, answer) => sum + answer.length, 0);
    return {
      logprobs: job.questions.map((question) => question.answers.map((answer) => -answer.length)),
      inputTokens: prompts + answerTokens,
      cachedTokens: 0,
      evaluatedTokens: prompts + answerTokens - answers.length,
      scoreMs: 0,
    };
  }

  async dispose(): Promise<void> {}
}

/** A model loader that "loads" scripted engines (one per model name), for `buildLlmchatApp`'s deps. */
export function scriptedLoader(
  script: (job: GenerationJob) => Script,
  options: {
    parallel?: number;
    maxWaiting?: number;
    contextSize?: number;
    /** How long loading each model takes, by name. */
    loadMs?: Record<string, number>;
  } = {},
): { loader: ModelLoader<LoadedModel>; engines: Map<string, ScriptedEngine> } {
  const engines = new Map<string, ScriptedEngine>();
  const loader: ModelLoader<LoadedModel> = async (entry) => ({
    estimatedRamBytes: 0,
    overBudgetMessage: () => 'never over budget',
    load: async () => {
      const delay = options.loadMs?.[entry.name] ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const engine = new ScriptedEngine(script, { id: entry.name, ...options });
      engines.set(entry.name, engine);
      return { engine, dispose: () => engine.dispose() };
    },
  });
  return { loader, engines };
}
