import type { Token } from 'node-llama-cpp';
import type { Slot } from './slot.js';

export interface LeasedSlot {
  slot: Slot;
  /** Prompt tokens whose KV state the slot already holds. */
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
 * The context's slots, one per request in flight. A request gets the free
 * slot whose cached tokens share the longest prefix with its prompt, and
 * only the differing tail is evaluated: a repeated system prompt or the
 * earlier turns of a chat cost nothing the second time.
 */
export class SequencePool {
  private readonly free: Slot[];

  constructor(slots: readonly Slot[]) {
    this.free = [...slots];
  }

  get size(): number {
    return this.free.length;
  }

  /** Callers hold an admission slot, so a free slot always exists. */
  acquire(prompt: readonly Token[]): LeasedSlot {
    let bestIndex = 0;
    let bestLength = -1;
    this.free.forEach((slot, index) => {
      const length = commonPrefixLength(slot.tokens, prompt);
      if (length > bestLength) {
        bestLength = length;
        bestIndex = index;
      }
    });
    const [slot] = this.free.splice(bestIndex, 1);
    if (!slot) throw new Error('no free slot: acquire() without an admission slot');
    // At least one prompt token is evaluated, so the first sampled token has fresh logits.
    const reused = Math.min(Math.max(bestLength, 0), prompt.length - 1);
    slot.truncate(reused);
    return { slot, reusedTokens: reused, input: prompt.slice(reused) };
  }

  release(slot: Slot): void {
    this.free.push(slot);
  }
}
