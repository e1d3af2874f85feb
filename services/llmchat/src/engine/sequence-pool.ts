import type { Token } from 'node-llama-cpp';
import {
  commonPrefixLength,
  type Realigned,
  realignPrompt,
  type TokenText,
} from './prompt-realign.js';

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

/**
 * The context's free sequences. A job gets the free sequence whose cached tokens share the
 * longest prefix with its prompt, and only the differing tail is evaluated: a repeated
 * system prompt or the earlier turns of a chat cost nothing the second time.
 *
 * Only among sequences it would not mostly overwrite, though: a sequence "fits" a prompt
 * when the shared prefix is at least half of what it holds (an empty one always fits). A new
 * conversation that shares only a short system prompt with another's sequence takes an
 * empty or fitting one instead, so several conversations going on at once each keep their
 * own sequence (and their turns reuse it) rather than all evicting one another from the
 * same one. With no fitting sequence, the longest prefix wins, then the least recently used
 * (llama-server picks its slot the same way, by prompt similarity, then LRU).
 *
 * Given the tokenizer, the chosen sequence's earlier answer counts as shared even where the
 * prompt spells it with other tokens (prompt-realign.ts): a chat's next turn evaluates only
 * the new message, not the last answer again.
 */
export class SequencePool<S extends CachedSequence> {
  private readonly free: S[];
  /** When each sequence was last given back (a counter), for least-recently-used ties. */
  private readonly lastUsed = new Map<S, number>();
  private uses = 0;

  constructor(
    sequences: readonly S[],
    private readonly tokenText?: TokenText,
  ) {
    this.free = [...sequences];
  }

  get size(): number {
    return this.free.length;
  }

  /** Tokens the free sequences keep cached (for prefix reuse), not held by any job. */
  get cachedTokens(): number {
    return this.free.reduce((sum, sequence) => sum + sequence.tokens.length, 0);
  }

  /**
   * The scheduler hands out a turn only when a sequence is free, so one always is here.
   * `maxLength`: the longest the prompt may become when realigned (what the context leaves
   * beside the job's output), its own length by default.
   */
  take(prompt: readonly Token[], maxLength = prompt.length): PickedSequence<S> {
    let best: (Candidate & { index: number; realigned: Realigned }) | undefined;
    this.free.forEach((sequence, index) => {
      const prefix = commonPrefixLength(sequence.tokens, prompt);
      const realigned =
        this.tokenText && prefix > 0 && prefix < sequence.tokens.length
          ? realignPrompt(
              sequence.tokens,
              prompt,
              this.tokenText,
              Math.max(maxLength, prompt.length),
            )
          : { prompt, shared: prefix };
      const candidate = {
        index,
        realigned,
        length: realigned.shared,
        fits: realigned.shared * 2 >= sequence.tokens.length,
        lastUsed: this.lastUsed.get(sequence) ?? -1,
      };
      if (!best || better(candidate, best)) best = candidate;
    });
    const [sequence] = best ? this.free.splice(best.index, 1) : [];
    if (!sequence || !best)
      throw new Error('no free sequence: take() without a turn from the scheduler');
    const { prompt: input, shared } = best.realigned;
    // At least one prompt token is evaluated, so the first sampled token has fresh logits.
    const reused = Math.min(shared, input.length - 1);
    sequence.truncate(reused);
    return { sequence, reusedTokens: reused, input: input.slice(reused) };
  }

  give(sequence: S): void {
    this.lastUsed.set(sequence, ++this.uses);
    this.free.push(sequence);
  }
}

type Candidate = { length: number; fits: boolean; lastUsed: number };

/** A fitting sequence first, then the longest prefix, then the least recently used. */
function better(a: Candidate, b: Candidate): boolean {
  if (a.fits !== b.fits) return a.fits;
  if (a.length !== b.length) return a.length > b.length;
  return a.lastUsed < b.lastUsed;
}
