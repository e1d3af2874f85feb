import type { LlamaModel, Token } from 'node-llama-cpp';

/**
 * Turns generated tokens into text as they arrive. A token can end in the
 * middle of a UTF-8 character; such text is held until the character is
 * complete, so no delta ever carries a replacement character.
 */
export class IncrementalDecoder {
  private readonly tokens: Token[] = [];
  private decodedUpTo = 0;

  constructor(private readonly model: LlamaModel) {}

  push(token: Token): string {
    this.tokens.push(token);
    const text = this.decodePending();
    if (text.endsWith('\uFFFD')) return '';
    this.decodedUpTo = this.tokens.length;
    return text;
  }

  /** Whatever is still pending at the end, even if incomplete. */
  flush(): string {
    const text = this.decodePending();
    this.decodedUpTo = this.tokens.length;
    return text;
  }

  private decodePending(): string {
    if (this.decodedUpTo === this.tokens.length) return '';
    // The preceding tokens let the tokenizer decide about leading spaces.
    const context = this.tokens.slice(Math.max(0, this.decodedUpTo - 4), this.decodedUpTo);
    return this.model.detokenize(this.tokens.slice(this.decodedUpTo), false, context);
  }
}
