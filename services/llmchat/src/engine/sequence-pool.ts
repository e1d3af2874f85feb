import type { LlamaContext, LlamaContextSequence, Token } from 'node-llama-cpp';

export interface LeasedSequence {
  sequence: LlamaContextSequence;
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
 * The context's sequences, one per request in flight. A request gets the free
 * sequence whose cached tokens share the longest prefix with its prompt, and
 * only the differing tail is evaluated: a repeated system prompt or the
 * earlier turns of a chat cost nothing the second time.
 */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];

  constructor(context: LlamaContext) {
    while (context.sequencesLeft > 0) this.free.push(context.getSequence());
  }

  get size(): number {
    return this.free.length;
  }

  /** Callers hold an admission slot, so a free sequence always exists. */
  async acquire(prompt: readonly Token[]): Promise<LeasedSequence> {
    let bestIndex = 0;
    let bestLength = -1;
    this.free.forEach((sequence, index) => {
      const length = commonPrefixLength(sequence.contextTokens, prompt);
      if (length > bestLength) {
        bestLength = length;
        bestIndex = index;
      }
    });
    const [sequence] = this.free.splice(bestIndex, 1);
    if (!sequence) throw new Error('no free sequence: acquire() without an admission slot');
    // At least one prompt token is evaluated, so the first sampled token has fresh logits.
    const reused = Math.min(Math.max(bestLength, 0), prompt.length - 1);
    if (sequence.nextTokenIndex > reused) {
      await sequence.eraseContextTokenRanges([{ start: reused, end: sequence.nextTokenIndex }]);
    }
    return { sequence, reusedTokens: reused, input: prompt.slice(reused) };
  }

  release(sequence: LlamaContextSequence): void {
    this.free.push(sequence);
  }
}
