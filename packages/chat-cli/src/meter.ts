import type { LlmClient } from '@hrserve/client';

/**
 * An answer's speed, as `--verbose` shows it: tokens (counted by the server's tokenizer
 * when it has one, else the streamed pieces), tokens per second from the first token on,
 * and the time to that first token.
 */
export class AnswerMeter {
  private readonly startedAt = performance.now();
  private firstAt: number | undefined;
  private pieces = 0;

  delta(): void {
    this.firstAt ??= performance.now();
    this.pieces += 1;
  }

  async line(client: LlmClient, text: string): Promise<string> {
    const endedAt = performance.now();
    const tokens = text
      ? await client.countTokens(text).then(
          ({ tokens: counted }) => counted,
          () => this.pieces,
        )
      : 0;
    const firstAt = this.firstAt ?? endedAt;
    const seconds = (endedAt - firstAt) / 1000;
    const rate = seconds > 0 ? (tokens / seconds).toFixed(1) : '–';
    return `[${tokens} tokens, ${rate} tokens/s, first token after ${Math.round(firstAt - this.startedAt)} ms]`;
  }
}
