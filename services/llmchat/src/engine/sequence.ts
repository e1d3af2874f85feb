import type { Token } from 'node-llama-cpp';
import type { DecodeLoop } from './decode-loop.js';
import type { TokenLogprob } from './logprobs.js';
import type { NativeContext, NativeSampler } from './native.js';

/**
 * One sequence of the context: the tokens its KV cache holds, and generation
 * on top of them through the shared decode loop.
 */
export class Sequence {
  /** Tokens whose KV state this sequence holds, in order from position 0. */
  private held: Token[] = [];
  /** The generation under way, whose tokens join `held` when it ends. */
  private active: { readonly tokens: readonly Token[] } | undefined;

  constructor(
    readonly id: number,
    readonly contextSize: number,
    private readonly loop: DecodeLoop,
    private readonly native: Pick<
      NativeContext,
      'removeTokenCellsFromSequence' | 'copySequenceStateFromOtherSequence'
    >,
    private readonly isEndOfGeneration: (token: Token) => boolean,
  ) {}

  get tokens(): readonly Token[] {
    return this.held;
  }

  /** KV cells in use now: what it holds plus what the generation under way has evaluated. */
  get cellsInUse(): number {
    return this.held.length + (this.active?.tokens.length ?? 0);
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
   * yielded token counts as evaluated only once the caller asks for the next
   * one: a caller that stops after token t can evaluate t itself (or not).
   * (The loop may have decoded t already; `TokenStream.stop` says what to keep.)
   * The sampler is the caller's (one per phase) and is disposed at the end.
   */
  async *evaluate(
    input: readonly Token[],
    sampler: NativeSampler,
    /** Each yielded token's log-probability goes into `into`, read with `probe`. */
    logprobs?: { top: number; probe: NativeSampler; into: TokenLogprob[] },
  ): AsyncGenerator<Token, void> {
    const start = this.held.length;
    const stream = this.loop.generate({
      sequenceId: this.id,
      position: start,
      input,
      sampler,
      limit: this.contextSize,
      isEnd: this.isEndOfGeneration,
      ...(logprobs ? { logprobs: { top: logprobs.top, probe: logprobs.probe } } : {}),
    });
    this.active = stream;
    let yielded = 0;
    try {
      for (;;) {
        const next = await stream.next();
        if (next.done) return;
        if (logprobs) {
          const entry = stream.sampledLogprobs[yielded];
          if (entry) logprobs.into.push(entry);
        }
        yielded += 1;
        yield next.value;
      }
    } finally {
      const kept = await stream.stop();
      this.active = undefined;
      sampler.dispose();
      this.keep(start, stream.tokens.slice(0, kept));
    }
  }

  /** Evaluates `input` after what the sequence holds, sampling nothing (a prompt to share). */
  async prefill(input: readonly Token[], sampler: NativeSampler): Promise<void> {
    await this.score(input, new Map(), sampler);
  }

  /**
   * Takes `source`'s tokens and KV state as its own (n choices: the prompt evaluated once,
   * copied to every choice's sequence). Both sequences must be idle.
   */
  async copyFrom(source: Sequence): Promise<void> {
    await this.loop.exclusive(() =>
      this.native.copySequenceStateFromOtherSequence(this.id, source.id),
    );
    this.held = [...source.held];
  }

  /**
   * Evaluates `input` after what the sequence holds (it stays in the KV cache), sampling
   * nothing, and returns at each input index of `at` the log-probabilities of the candidate
   * next tokens listed there, read with `probe` (the raw distribution, teacher forcing).
   * Fails with a RangeError when the input does not fit.
   */
  async score(
    input: readonly Token[],
    at: ReadonlyMap<number, readonly Token[]>,
    probe: NativeSampler,
  ): Promise<Map<number, Map<Token, number>>> {
    if (!this.hasRoomFor(input.length)) {
      // Callers size their input to the context first (prepare-scoring.ts, the pool's maxLength).
      throw new RangeError(
        `${this.held.length + input.length} tokens do not fit a sequence of ${this.contextSize}`,
      );
    }
    const start = this.held.length;
    const stream = this.loop.generate({
      sequenceId: this.id,
      position: start,
      input,
      sampler: probe,
      limit: this.contextSize,
      isEnd: this.isEndOfGeneration,
      score: { at, probe },
    });
    this.active = stream;
    try {
      while (!(await stream.next()).done) {
        // A scoring stream yields no tokens: it ends once the input is evaluated.
      }
      return stream.scored;
    } finally {
      const kept = await stream.stop();
      this.active = undefined;
      this.keep(start, stream.tokens.slice(0, kept));
    }
  }

  /** The KV cache holds `tokens` from `start` on, and nothing after them. */
  private keep(start: number, tokens: readonly Token[]): void {
    this.held = [...this.held.slice(0, start), ...tokens];
    // Drops tokens decoded ahead of the consumer, or (after a failed batch) whatever state the cells are in.
    this.native.removeTokenCellsFromSequence(this.id, this.held.length, -1);
  }
}
