import type { LlamaEmbeddingContext, Token } from 'node-llama-cpp';
import type { EmbedConfig } from '../config.js';
import type { LoadedModel } from './load.js';

/** Scales a vector to length 1 (a zero vector stays zero). */
export function normalize(vector: readonly number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

/**
 * The model with a pool of embedding contexts: each input is evaluated on the
 * next free context, so the inputs of one request (and of concurrent requests)
 * run side by side, one per context. node-llama-cpp's embedding context reads
 * one sequence's pooled vector per evaluation, so contexts, not sequences, are
 * the unit of parallelism.
 */
/** What an embedding asked for after shutdown began fails with. */
export class EmbedderClosedError extends Error {
  override readonly name = 'EmbedderClosedError';
  constructor() {
    super('The service is shutting down. Retry on another instance or shortly.');
  }
}

/** One request's inputs as they are embedded. */
interface EmbedJob {
  inputs: readonly (readonly Token[])[];
  results: number[][];
  /** The next input to start. */
  next: number;
  finished: number;
  settled: boolean;
  resolve(vectors: number[][]): void;
  reject(reason: unknown): void;
  cleanup?: () => void;
}

export class Embedder {
  private readonly idle: LlamaEmbeddingContext[];
  private closed = false;

  private constructor(
    private readonly loaded: LoadedModel,
    private readonly contexts: LlamaEmbeddingContext[],
    readonly contextSize: number,
  ) {
    this.idle = [...contexts];
  }

  static async create(loaded: LoadedModel, config: EmbedConfig): Promise<Embedder> {
    const train = loaded.model.trainContextSize;
    const contextSize = config.EMBED_CONTEXT_SIZE ?? Math.min(train, 8192);
    const contexts: LlamaEmbeddingContext[] = [];
    for (let index = 0; index < config.EMBED_CONTEXTS; index++) {
      contexts.push(
        await loaded.model.createEmbeddingContext({
          contextSize,
          // The whole input in one batch: no input is longer than the context.
          batchSize: contextSize,
          threads: config.EMBED_THREADS,
        }),
      );
    }
    return new Embedder(loaded, contexts, contextSize);
  }

  get modelIds(): string[] {
    return this.loaded.ids;
  }

  get path(): string {
    return this.loaded.path;
  }

  /** Token ids run from 0 to this size - 1. */
  get vocabularySize(): number {
    return this.loaded.model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  }

  /** node-llama-cpp refuses an input that fills the whole context: one token less. */
  get maxInputTokens(): number {
    return this.contextSize - 1;
  }

  /** How many of these tokens fit, after the BOS/EOS tokens node-llama-cpp adds to an input. */
  inputLimitFor(tokens: readonly Token[]): number {
    const context = this.contexts[0];
    const added = context ? context.calculateInputLength([...tokens]) - tokens.length : 0;
    return this.maxInputTokens - Math.max(0, added);
  }

  get dimensions(): number {
    return this.loaded.model.embeddingVectorSize;
  }

  tokenize(text: string): Token[] {
    return this.loaded.model.tokenize(text);
  }

  /**
   * Normalized vectors for token inputs, in order. Inputs run on free contexts side by
   * side, taken from the requests in turn (round robin), so a request of thousands of
   * inputs never holds a one-input request behind all of them. An aborted `signal`
   * drops the request's inputs not yet started and rejects with its reason.
   */
  embed(inputs: readonly (readonly Token[])[], signal?: AbortSignal): Promise<number[][]> {
    if (this.closed) return Promise.reject(new EmbedderClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise<number[][]>((resolve, reject) => {
      const job: EmbedJob = {
        inputs,
        results: new Array(inputs.length),
        next: 0,
        finished: 0,
        settled: false,
        resolve,
        reject,
      };
      const onAbort = () => this.drop(job, signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      job.cleanup = () => signal?.removeEventListener('abort', onAbort);
      this.rotation.push(job);
      this.pump();
    });
  }

  /** Requests with inputs not yet started, in turn order. */
  private readonly rotation: EmbedJob[] = [];
  /** Native evaluations in progress (a context must not be freed under one). */
  private evaluating = 0;
  private idleWaiters: Array<() => void> = [];

  /** Starts the next request's next input on every free context. */
  private pump(): void {
    for (;;) {
      const context = this.idle.at(-1);
      const job = this.rotation.shift();
      if (!context || !job) {
        if (job) this.rotation.unshift(job);
        break;
      }
      this.idle.pop();
      const index = job.next++;
      if (job.next < job.inputs.length) this.rotation.push(job);
      void this.evaluate(context, job, index);
    }
    if (this.rotation.length === 0 && this.evaluating === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async evaluate(context: LlamaEmbeddingContext, job: EmbedJob, index: number) {
    this.evaluating += 1;
    try {
      const embedding = await context.getEmbeddingFor([...(job.inputs[index] ?? [])]);
      if (!job.settled) {
        job.results[index] = normalize(embedding.vector);
        job.finished += 1;
        if (job.finished === job.inputs.length) this.settle(job, () => job.resolve(job.results));
      }
    } catch (error) {
      this.drop(job, error);
    } finally {
      this.evaluating -= 1;
      this.idle.push(context);
      this.pump();
    }
  }

  /** The request ends now: its inputs not started are dropped. */
  private drop(job: EmbedJob, reason: unknown): void {
    if (job.settled) return;
    const at = this.rotation.indexOf(job);
    if (at !== -1) this.rotation.splice(at, 1);
    this.settle(job, () => job.reject(reason));
    this.pump();
  }

  private settle(job: EmbedJob, outcome: () => void): void {
    job.settled = true;
    job.cleanup?.();
    outcome();
  }

  /**
   * Takes no more work, waits for what was accepted (the inputs of requests whose client
   * left are dropped, but an evaluation in progress is waited for: a context freed under
   * it would fail it, or worse), then frees the model.
   */
  dispose(): Promise<void> {
    this.disposing ??= this.disposeOnce();
    return this.disposing;
  }

  private disposing: Promise<void> | undefined;

  private async disposeOnce(): Promise<void> {
    this.closed = true;
    if (this.rotation.length > 0 || this.evaluating > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    for (const context of this.contexts) await context.dispose();
    await this.loaded.model.dispose();
    await this.loaded.llama.dispose();
  }
}
