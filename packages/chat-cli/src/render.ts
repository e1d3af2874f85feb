/** ANSI styles, or nothing when output is not a terminal (pipes, one-shot scripts). */
export function styles(enabled: boolean) {
  const wrap = (code: string) => (text: string) =>
    enabled && text ? `\x1b[${code}m${text}\x1b[0m` : text;
  return {
    dim: wrap('2'),
    bold: wrap('1'),
    cyan: wrap('36'),
    yellow: wrap('33'),
    red: wrap('31'),
    green: wrap('32'),
  };
}

export type Styles = ReturnType<typeof styles>;

/**
 * Colours a streamed answer: prose in cyan, fenced code blocks (```) in
 * yellow, the fences dimmed. Works on deltas of any size: a line that may be
 * a fence is held back until it is known, everything else shows at once.
 */
export class AnswerRenderer {
  private inCode = false;
  private atLineStart = true;
  /** The start of a line that may still turn out to be a fence. */
  private held: string | undefined;

  constructor(private readonly style: Styles) {}

  push(delta: string): string {
    let out = '';
    let run = '';
    const text = (value: string) =>
      this.inCode ? this.style.yellow(value) : this.style.cyan(value);
    const flushRun = () => {
      out += text(run);
      run = '';
    };
    for (const char of delta) {
      if (this.held !== undefined) {
        this.held += char;
        if (this.held.trimStart().startsWith('```')) {
          if (char === '\n') {
            flushRun();
            out += `${this.style.dim(this.held.slice(0, -1))}\n`;
            this.inCode = !this.inCode;
            this.held = undefined;
            this.atLineStart = true;
          }
          continue;
        }
        if ('```'.startsWith(this.held.trimStart())) continue;
        run += this.held;
        this.held = undefined;
        this.atLineStart = char === '\n';
        continue;
      }
      if (this.atLineStart && (char === '`' || char === ' ')) {
        flushRun();
        this.held = char;
        continue;
      }
      run += char;
      this.atLineStart = char === '\n';
    }
    flushRun();
    return out;
  }

  /** Whatever was held back, at the end of the answer. */
  flush(): string {
    const rest = this.held ?? '';
    this.held = undefined;
    const out = rest.trimStart().startsWith('```')
      ? this.style.dim(rest)
      : this.inCode
        ? this.style.yellow(rest)
        : this.style.cyan(rest);
    this.inCode = false;
    this.atLineStart = true;
    return out;
  }
}
