import type { Token } from 'node-llama-cpp';
import type { DecodeLoop } from './decode-loop.js';
import type { NativeContext, NativeSampler } from './native.js';

/**
 * One sequence of the context: the tokens its KV cache holds, and generation
 * on top of them through the shared decode loop.
 */
export class Slot {
  /** Tokens whose KV state this sequence holds, in order from position 0. */
  private held: Token[] = [];

  constructor(
    readonly id: number,
    readonly contextSize: number,
    private readonly loop: DecodeLoop,
    private readonly native: Pick<NativeContext, 'removeTokenCellsFromSequence'>,
    private readonly isEndOfGeneration: (token: Token) => boolean,
  ) {}

  get tokens(): readonly Token[] {
    return this.held;
  }

  /** Whether `count` more tokens fit. */
  hasRoomFor(count: number): boolean {
    return this.held.length + count <= this.contextSize;
  }

  /** Forgets every token from `length` on (KV cells included). */
  truncate(length: number): void {
    if (length >= this.held.length) return;
    this.native.removeTokenCellsFromSequence(this.id, length, -1);
    this.held = this.held.slice(0, length);
  }

  /**
   * Evaluates `input`, then yields sampled tokens until end-of-generation, a
   * full context, or the caller stops. Like node-llama-cpp's `evaluate`, a
   * yielded token enters the KV cache only when the caller asks for the next
   * one: a caller that stops after token t can evaluate t itself (or not).
   * The sampler is the caller's (one per phase) and is disposed at the end.
   */
  async *evaluate(input: readonly Token[], sampler: NativeSampler): AsyncGenerator<Token, void> {
    try {
      let pending = input;
      while (pending.length > 0 && this.hasRoomFor(pending.length)) {
        const token = await this.decode(pending, sampler);
        if (token === undefined || token < 0 || this.isEndOfGeneration(token)) return;
        yield token;
        pending = [token];
      }
    } finally {
      sampler.dispose();
    }
  }

  private async decode(tokens: readonly Token[], sampler: NativeSampler) {
    const position = this.held.length;
    try {
      const token = await this.loop.step(this.id, position, tokens, sampler);
      this.held.push(...tokens);
      return token;
    } catch (error) {
      // The cells of a failed batch are in an unknown state: nothing of this sequence is reused.
      this.native.removeTokenCellsFromSequence(this.id, 0, -1);
      this.held = [];
      throw error;
    }
  }
}
