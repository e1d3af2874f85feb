/**
 * Finds stop strings (and the tool-call opening tag) in streamed text without
 * ever emitting part of one: text that could still grow into a match is held
 * back until it either completes the match or cannot. Stop text is never
 * emitted, as OpenAI specifies.
 */
export class TextMatcher {
  private buffer = '';

  constructor(private readonly needles: readonly string[]) {}

  /**
   * Adds generated text. Returns the text safe to emit now and, when a needle
   * completed, which one (text after it is dropped).
   */
  push(text: string): { emit: string; matched?: string } {
    this.buffer += text;
    let first: { index: number; needle: string } | undefined;
    for (const needle of this.needles) {
      const index = this.buffer.indexOf(needle);
      if (index !== -1 && (first === undefined || index < first.index)) first = { index, needle };
    }
    if (first) {
      const emit = this.buffer.slice(0, first.index);
      this.buffer = '';
      return { emit, matched: first.needle };
    }
    const hold = this.heldBackLength();
    const emit = this.buffer.slice(0, this.buffer.length - hold);
    this.buffer = this.buffer.slice(this.buffer.length - hold);
    return { emit };
  }

  /** Text held back at the end of generation: it never became a needle, so it is output. */
  flush(): string {
    const rest = this.buffer;
    this.buffer = '';
    return rest;
  }

  /** Length of the longest buffer suffix that is a proper prefix of some needle. */
  private heldBackLength(): number {
    let longest = 0;
    for (const needle of this.needles) {
      const max = Math.min(needle.length - 1, this.buffer.length);
      for (let length = max; length > longest; length--) {
        if (this.buffer.endsWith(needle.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
