import { stat } from 'node:fs/promises';
import {
  type ChatWrapper,
  GeneralChatWrapper,
  type Llama,
  type LlamaContext,
  resolveChatWrapper,
  type Token,
} from 'node-llama-cpp';
import { type RenderedPrompt, renderChatPrompt } from './chat-prompt.js';
import type { CompiledConstraints, ConstraintCompiler } from './constraints.js';
import type { DecodeGate } from './decode-gate.js';
import { DecodeLoop } from './decode-loop.js';
import { flashAttentionFor } from './flash-attention.js';
import { generate } from './generate.js';
import { type LoadedModel, loadModel } from './load-model.js';
import type { JobReservation, ModelEngine, ModelInfo, PreparedJob } from './model-engine.js';
import { nativeContext } from './native.js';
import type { EngineOptions, ModelFile } from './options.js';
import { createProbeSampler } from './sampler.js';
import { type Priority, type Reservation, SequenceScheduler } from './scheduler.js';
import { scoreAnswers } from './score.js';
import { Sequence } from './sequence.js';
import { SequencePool } from './sequence-pool.js';
import { threadChoice } from './thread-policy.js';
import type {
  ChatMessage,
  GenerationJob,
  GenerationResult,
  GenerationSink,
  ScoringJob,
  ScoringResult,
  ToolDefinition,
} from './types.js';
import { SILENT_SINK } from './types.js';

/** What the process's models share: the llama.cpp instance, one decode at a time, compiled grammars. */
export interface EngineShared {
  llama: Llama;
  gate: DecodeGate;
  constraints: ConstraintCompiler;
}

/** A job with its grammars, made by `prepare`. */
interface LlamaPreparedJob extends PreparedJob {
  constraints: CompiledConstraints;
}

function isLlamaPrepared(prepared: PreparedJob): prepared is LlamaPreparedJob {
  return 'constraints' in prepared;
}

/**
 * One loaded model: its weights, its one context, that context's sequences and
 * the scheduler that hands them out. It knows nothing of HTTP. A job reserves a
 * place (`reserve`), is prepared (`prepare`: constraints compiled) and runs
 * when its turn comes (`run`); the reservation's `release()` gives back
 * whatever it holds.
 */
export class LlamaEngine implements ModelEngine {
  private constructor(
    private readonly loaded: LoadedModel,
    private readonly context: LlamaContext,
    private readonly scheduler: SequenceScheduler<Sequence>,
    private readonly sequences: { all: readonly Sequence[]; pool: SequencePool<Sequence> },
    private readonly loop: DecodeLoop,
    private readonly chatWrapper: ChatWrapper,
    private readonly shared: EngineShared,
    readonly info: ModelInfo,
  ) {}

  static async create(
    file: ModelFile,
    options: EngineOptions,
    shared: EngineShared,
  ): Promise<LlamaEngine> {
    const loaded = await loadModel(file, options, shared.llama);
    const context = await loaded.model.createContext({
      contextSize: loaded.contextSize,
      sequences: options.parallel,
      threads: 1,
      batchSize: options.batchSize,
      flashAttention: flashAttentionFor(
        options.flashAttention,
        loaded.llama.gpu !== false,
        loaded.model.fileInfo.metadata,
      ),
    });
    // A model without a chat template still gets a readable generic one.
    const chatWrapper = resolveChatWrapper(loaded.model) ?? new GeneralChatWrapper();
    const [id, ...aliases] = loaded.ids;
    const info: ModelInfo = {
      id: id ?? 'model',
      aliases,
      path: loaded.path,
      size_bytes: (await stat(loaded.path)).size,
      architecture: loaded.model.fileInfo.metadata?.general?.architecture,
      context_size: context.contextSize,
      train_context_size: loaded.trainContextSize,
      parallel: options.parallel,
      threads: options.threads.budget,
      thread_policy: options.threads.policy,
      gpu: loaded.llama.gpu,
      binary: loaded.llama.buildType,
      flash_attention: context.flashAttention,
      chat_template: chatWrapper.wrapperName,
      estimated_ram_bytes: loaded.estimatedRamBytes,
    };
    const { scheduler, sequences, loop } = sequencesOf(
      context,
      options,
      shared.gate,
      info.size_bytes,
    );
    return new LlamaEngine(loaded, context, scheduler, sequences, loop, chatWrapper, shared, info);
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  renderChat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): RenderedPrompt {
    return renderChatPrompt(this.chatWrapper, this.loaded.model, messages, tools);
  }

  tokenize(text: string, specialTokens = false): Token[] {
    return this.loaded.model.tokenize(text, specialTokens);
  }

  /** The model's beginning-of-sequence token, when it has one. */
  get bosToken(): Token | undefined {
    return this.loaded.model.tokens.bos ?? undefined;
  }

  /** Token ids run from 0 to this size - 1. */
  get vocabularySize(): number {
    return this.loaded.model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  }

  detokenize(tokens: readonly Token[]): string {
    return this.loaded.model.detokenize(tokens, true);
  }

  /**
   * A place in this model's queue, taken before the job is prepared. Throws
   * `QueueFullError` at once when the queue is full; `release()` it in a `finally`.
   */
  reserve(
    options: {
      priority?: Priority;
      signal?: AbortSignal;
      sequences?: number;
      preemptible?: boolean;
    } = {},
  ): Reservation<Sequence> {
    return this.scheduler.reserve(options);
  }

  /** Compiles the constraints (cached; `InvalidSchemaError` naming the schema's origin), then builds the job. */
  async prepare(
    constraints: Pick<GenerationJob, 'constraint' | 'tools'>,
    job: () => GenerationJob,
  ): Promise<LlamaPreparedJob> {
    const compiled = await this.shared.constraints.compile(
      constraints.constraint,
      constraints.tools,
    );
    return { job: job(), constraints: compiled };
  }

  /**
   * Waits for the reservation's turn, generates on the free sequence that best
   * reuses the prompt's prefix, and stops at the next token once `signal` aborts.
   * The sequence stays the reservation's until it is released.
   */
  async run(
    reservation: JobReservation,
    prepared: PreparedJob,
    sink: GenerationSink,
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    const own = this.scheduler.own(reservation);
    if (!own || !isLlamaPrepared(prepared)) {
      throw new Error(
        "run() takes a reservation and a job from this engine's reserve() and prepare()",
      );
    }
    const { promptTokens, maxTokens } = prepared.job;
    // A realigned prompt may grow into the room the context leaves beside the answer.
    const turn = await own.acquire(promptTokens, this.context.contextSize - maxTokens);
    return generate(
      this.loaded.model,
      turn.sequence,
      turn.input,
      turn.reusedTokens,
      prepared.job,
      prepared.constraints,
      sink,
      signal,
    );
  }

  /**
   * n choices: the prompt (all but its last token) is evaluated once on the first sequence
   * and its KV state copied to the others; each choice then evaluates the last token itself
   * (so each samples its own first token) and generates, all in the same batches. A seeded
   * request seeds choice i with seed + i: same request, same choices, yet not n copies.
   */
  async runChoices(
    reservation: JobReservation,
    prepared: PreparedJob,
    sinks: readonly GenerationSink[],
    signal: AbortSignal,
  ): Promise<GenerationResult[]> {
    const own = this.scheduler.own(reservation);
    if (!own || !isLlamaPrepared(prepared)) {
      throw new Error(
        "runChoices() takes a reservation and a job from this engine's reserve() and prepare()",
      );
    }
    const { job } = prepared;
    const model = this.loaded.model;
    const turn = await own.acquire(job.promptTokens, this.context.contextSize - job.maxTokens);
    const siblings = own.takeSiblings(job.promptTokens);
    // The pool leaves at least one prompt token to evaluate.
    const shared = turn.input.slice(0, -1);
    const last = turn.input.slice(-1);
    const prefillStartedAt = performance.now();
    const sampler = createProbeSampler(model);
    try {
      await turn.sequence.prefill(shared, sampler);
    } finally {
      sampler.dispose();
    }
    for (const sibling of siblings) await sibling.copyFrom(turn.sequence);
    const prefillMs = performance.now() - prefillStartedAt;
    const cached = turn.reusedTokens + shared.length;
    const seed = job.sampling.seed;
    // One choice failing stops the others, and every one has left the decode loop before the
    // reservation gives their sequences to the next job.
    const stop = new AbortController();
    const choicesSignal = AbortSignal.any([signal, stop.signal]);
    const settled = await Promise.allSettled(
      [turn.sequence, ...siblings].map((sequence, index) =>
        generate(
          model,
          sequence,
          last,
          cached,
          seed === undefined ? job : { ...job, sampling: { ...job.sampling, seed: seed + index } },
          prepared.constraints,
          sinks[index] ?? SILENT_SINK,
          choicesSignal,
        ).catch((error: unknown) => {
          stop.abort(error);
          throw error;
        }),
      ),
    );
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const results = settled.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    // The prompt was evaluated once, before any choice's clock started: the first choice
    // counts it, with what it reused; every choice's first token waited for it.
    return results.map((result, index) => {
      const timings = {
        ...result.timings,
        timeToFirstTokenMs: result.timings.timeToFirstTokenMs + prefillMs,
      };
      return index === 0
        ? {
            ...result,
            timings: {
              ...timings,
              promptEvaluated: turn.input.length,
              promptCached: turn.reusedTokens,
            },
          }
        : { ...result, sharedPrompt: true, timings };
    });
  }

  answerTokens(text: string): Token[] {
    // As generate.ts appends forced text after a prompt: no leading space of its own.
    return this.loaded.model.tokenize(text, false, 'trimLeadingSpace');
  }

  turnEnd(prompt: RenderedPrompt): Token | undefined {
    return prompt.stopTokens[0] ?? this.loaded.model.tokens.eos ?? undefined;
  }

  /** Waits for the turn, then scores on the free sequence that best reuses the first prompt. */
  async score(
    reservation: JobReservation,
    job: ScoringJob,
    signal: AbortSignal,
  ): Promise<ScoringResult> {
    const own = this.scheduler.own(reservation);
    if (!own) throw new Error("score() takes a reservation from this engine's reserve()");
    const first = job.questions[0]?.promptTokens ?? [];
    const turn = await own.acquire(first, this.context.contextSize);
    const probe = createProbeSampler(this.loaded.model);
    try {
      return await scoreAnswers(turn.sequence, job, probe, signal);
    } finally {
      probe.dispose();
    }
  }

  /**
   * The share of the KV cache (every sequence's context) that running jobs
   * hold, 0–1. Prefixes idle sequences keep for reuse are not counted: they
   * give way to the next job (what a load-aware router wants to know).
   */
  get kvCacheUsage(): number {
    // Running generations count as they go, not only once they end.
    const held = this.sequences.all.reduce((sum, sequence) => sum + sequence.cellsInUse, 0);
    const capacity = this.context.contextSize * this.sequences.all.length;
    return capacity === 0 ? 0 : (held - this.sequences.pool.cachedTokens) / capacity;
  }

  /** Jobs generating, waiting and refused on this model. */
  get queue(): { running: number; waiting: number; rejected: number } {
    return {
      running: this.scheduler.running,
      waiting: this.scheduler.queued,
      rejected: this.scheduler.rejected,
    };
  }

  /** The GGUF metadata as flat `a.b.c` keys (Ollama's model_info), without the tokenizer's big arrays. */
  ggufSummary(): Record<string, unknown> {
    const flat: Record<string, unknown> = {};
    const walk = (value: unknown, prefix: string) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value))
          walk(inner, prefix ? `${prefix}.${key}` : key);
      } else if (!Array.isArray(value) || value.length <= 64) {
        flat[prefix] = value;
      }
    };
    walk(this.loaded.model.fileInfo.metadata, '');
    return flat;
  }

  /** The model's own chat template (Jinja) when its GGUF has one, else the wrapper's name. */
  get chatTemplate(): string {
    return this.loaded.model.fileInfo.metadata.tokenizer?.chat_template ?? this.info.chat_template;
  }

  async dispose(): Promise<void> {
    // No context freed under a round in progress; the Llama instance is shared by every
    // model: the manager disposes it at shutdown.
    await this.loop.close();
    await this.context.dispose();
    await this.loaded.model.dispose();
  }
}

/**
 * The context's sequences on one decode loop (see native.ts for why llmchat
 * runs its own loop instead of node-llama-cpp's per-sequence evaluate), handed
 * out by one scheduler.
 */
function sequencesOf(
  context: LlamaContext,
  options: EngineOptions,
  gate: DecodeGate,
  weightBytes: number,
): {
  scheduler: SequenceScheduler<Sequence>;
  sequences: { all: readonly Sequence[]; pool: SequencePool<Sequence> };
  loop: DecodeLoop;
} {
  const native = nativeContext(context);
  const threads = threadChoice(options.threads, weightBytes);
  const loop = new DecodeLoop(native, context.batchSize, threads, gate);
  const model = context.model;
  const sequences = Array.from(
    { length: context.totalSequences },
    (_, id) =>
      new Sequence(id, context.contextSize, loop, native, (token) => model.isEogToken(token)),
  );
  const pool = new SequencePool(sequences, {
    detokenize: (tokens, context) => model.detokenize(tokens, false, context),
    isSpecial: (token) => model.isSpecialToken(token),
  });
  const scheduler = new SequenceScheduler(pool, sequences.length, options.queue);
  return { scheduler, sequences: { all: sequences, pool }, loop };
}
