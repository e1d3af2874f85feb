import type { Token } from 'node-llama-cpp';

/** What the pool needs of a sequence: the tokens its KV cache holds, and forgetting a tail of them. */
export interface CachedSequence {
  readonly tokens: readonly Token[];
  truncate(length: number): void;
}

export interface PickedSequence<S> {
  sequence: S;
  /** Prompt tokens whose KV state the sequence already holds. */
  reusedTokens: number;
  /** The prompt tokens still to evaluate. */
  input: Token[];
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const max = Math.min(a.length, b.length);
  let index = 0;
  while (index < max && a[index] === b[index]) index++;
  return index;
}

/**
 * The context's free sequences. A job gets the free sequence whose cached
 * tokens share the longest prefix with its prompt, and only the differing tail
 * is evaluated: a repeated system prompt or the earlier turns of a chat cost
 * nothing the second time.
 */
export class SequencePool<S extends CachedSequence> {
  private readonly free: S[];

  constructor(sequences: readonly S[]) {
    this.free = [...sequences];
  }

  get size(): number {
    return this.free.length;
  }

  /** Tokens the free sequences keep cached (for prefix reuse), not held by any job. */
  get cachedTokens(): number {
    return this.free.reduce((sum, sequence) => sum + sequence.tokens.length, 0);
  }

  /** The scheduler hands out a turn only when a sequence is free, so one always is here. */
  take(prompt: readonly Token[]): PickedSequence<S> {
    let bestIndex = 0;
    let bestLength = -1;
    this.free.forEach((sequence, index) => {
      const length = commonPrefixLength(sequence.tokens, prompt);
      if (length > bestLength) {
        bestLength = length;
        bestIndex = index;
      }
    });
    const [sequence] = this.free.splice(bestIndex, 1);
    if (!sequence) throw new Error('no free sequence: take() without a turn from the scheduler');
    // At least one prompt token is evaluated, so the first sampled token has fresh logits.
    const reused = Math.min(Math.max(bestLength, 0), prompt.length - 1);
    sequence.truncate(reused);
    return { sequence, reusedTokens: reused, input: prompt.slice(reused) };
  }

  give(sequence: S): void {
    this.free.push(sequence);
  }
}
