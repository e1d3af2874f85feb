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
export class Embedder {
  private readonly idle: LlamaEmbeddingContext[];
  private readonly waiting: Array<(context: LlamaEmbeddingContext) => void> = [];

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

  /** Normalized vectors for token inputs, in order; inputs run on free contexts side by side. */
  embed(inputs: readonly (readonly Token[])[]): Promise<number[][]> {
    return Promise.all(inputs.map((tokens) => this.embedOne(tokens)));
  }

  private async embedOne(tokens: readonly Token[]): Promise<number[]> {
    const context =
      this.idle.pop() ??
      (await new Promise<LlamaEmbeddingContext>((resolve) => this.waiting.push(resolve)));
    try {
      const embedding = await context.getEmbeddingFor([...tokens]);
      return normalize(embedding.vector);
    } finally {
      const next = this.waiting.shift();
      if (next) next(context);
      else this.idle.push(context);
    }
  }

  async dispose(): Promise<void> {
    for (const context of this.contexts) await context.dispose();
    await this.loaded.model.dispose();
    await this.loaded.llama.dispose();
  }
}
