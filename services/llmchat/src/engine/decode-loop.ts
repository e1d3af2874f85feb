import type { Token } from 'node-llama-cpp';
import { DecodeGate } from './decode-gate.js';
import { probeLogprobs, probeTokenLogprobs, type TokenLogprob } from './logprobs.js';
import type { NativeContext, NativeSampler } from './native.js';
import { ONE_THREAD, type ThreadChoice } from './thread-policy.js';

export type DecodeBackend = Pick<
  NativeContext,
  'initBatch' | 'addToBatch' | 'decodeBatch' | 'sampleToken' | 'setThreads'
>;

export interface GenerationRequest {
  sequenceId: number;
  /** Position of `input[0]` in the sequence. */
  position: number;
  input: readonly Token[];
  /** Samples every token of this generation; the caller disposes it after `stop()`. */
  sampler: NativeSampler;
  /** The sequence's size: no token is evaluated at or past this position. */
  limit: number;
  /** End-of-generation tokens end the stream and are not yielded. */
  isEnd(token: Token): boolean;
  /** Read each sampled token's log-probability (and the `top` likeliest) with this probe sampler. */
  logprobs?: { top: number; probe: NativeSampler };
  /**
   * Scoring instead of generating: evaluate the input only (nothing is sampled; the stream
   * ends once it is in the KV cache), reading at each input index listed the
   * log-probabilities of the candidate next tokens given, with `probe`.
   */
  score?: { at: ReadonlyMap<number, readonly Token[]>; probe: NativeSampler };
}

/**
 * How many sampled tokens the loop may hold for a consumer that has not
 * taken them yet before it pauses that sequence. With 2, the next token is
 * decoded while the consumer handles the current one (stop strings, SSE),
 * so that work is off the critical path; a slow consumer costs at most two
 * tokens of compute that `stop()` then discards.
 */
const LOOKAHEAD = 2;

/**
 * One decode loop for the whole context, like llama-server's slot loop: each
 * round puts every active sequence's pending tokens into one batch — the next
 * token of every generating sequence first, then prompt tokens up to the
 * batch size — decodes it once, samples every sequence that finished its
 * input in parallel, and goes on with the next round at once. Generation
 * runs ahead of its consumer by up to LOOKAHEAD tokens.
 */
/** What a generation fails with once its model is being unloaded. */
export class DecodeLoopClosedError extends Error {
  override readonly name = 'DecodeLoopClosedError';
  constructor() {
    super('The model is being unloaded.');
  }
}

export class DecodeLoop {
  private readonly queue = new Set<TokenStream>();
  private running = false;
  /** The rounds in progress, settled when the loop goes idle. */
  private current: Promise<void> = Promise.resolve();
  private closed = false;
  private threadsSet: number | undefined;

  constructor(
    private readonly backend: DecodeBackend,
    private readonly batchSize: number,
    /** Threads for each batch, learning from each decode's time (thread-policy.ts). */
    private readonly threads: ThreadChoice = ONE_THREAD,
    /** Shared by every model's loop in the process (one decode at a time). */
    private readonly gate: DecodeGate = new DecodeGate(),
  ) {}

  /**
   * Runs `operation` on the context between decodes (a KV copy must not overlap one): after
   * every decode already asked for, before any asked for later.
   */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DecodeLoopClosedError());
    return this.gate.run(operation);
  }

  /** Starts generating; read tokens from the returned stream, and `stop()` it when done with it. */
  generate(request: GenerationRequest): TokenStream {
    const stream = new TokenStream(request, (ready) => this.schedule(ready));
    if (this.closed) {
      stream.fail(new DecodeLoopClosedError());
    } else if (
      request.input.length === 0 ||
      request.position + request.input.length > request.limit
    ) {
      stream.end();
    } else {
      this.schedule(stream);
    }
    return stream;
  }

  private schedule(stream: TokenStream): void {
    if (this.closed) {
      stream.fail(new DecodeLoopClosedError());
      return;
    }
    this.queue.add(stream);
    if (this.running) return;
    this.running = true;
    // One event-loop turn first, so streams started together share the first batch.
    this.current = new Promise((resolve) => setImmediate(() => void this.run().finally(resolve)));
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.size > 0 && !this.closed) await this.round(this.takeBatch());
    } finally {
      this.running = false;
    }
  }

  /**
   * Takes no more generations, fails those still waiting for a round, and resolves
   * once the round in progress is done: only then may the context be freed (a
   * native decode or sample on a freed context would crash the process).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const stream of this.queue) stream.fail(new DecodeLoopClosedError());
    this.queue.clear();
    await this.current;
  }

  /** Fewest tokens first: generating sequences' single tokens, then prompts, the last one split if needed. */
  private takeBatch(): Array<{ stream: TokenStream; count: number }> {
    const ordered = [...this.queue].sort((a, b) => a.pending.length - b.pending.length);
    const items: Array<{ stream: TokenStream; count: number }> = [];
    let room = this.batchSize;
    for (const stream of ordered) {
      if (!stream.wantsRound) {
        this.queue.delete(stream); // stopped (or paused) since it was queued
        continue;
      }
      if (room === 0) break;
      const count = Math.min(stream.pending.length, room);
      room -= count;
      items.push({ stream, count });
      this.queue.delete(stream);
    }
    // In sequence-id order: llama.cpp decodes such a batch much faster than a shuffled one
    // (measured, 8 sequences × 1 token on synth-30M: 23 ms vs 37 ms per batch).
    return items.sort((a, b) => a.stream.sequenceId - b.stream.sequenceId);
  }

  private async round(items: Array<{ stream: TokenStream; count: number }>): Promise<void> {
    for (const { stream } of items) stream.inRound = true;
    try {
      let outputs: BatchOutputs;
      try {
        outputs = await this.decode(items);
      } catch (error) {
        for (const { stream } of items) stream.fail(error);
        return;
      }
      // Sampling reads this batch's logits: every sample completes before the next decode.
      await Promise.all(
        items.map(async ({ stream, count }, index) => {
          const logitIndex = outputs.last[index];
          if (stream.score) {
            try {
              await this.readScores(stream, outputs.reads.get(index) ?? []);
            } catch (error) {
              stream.fail(error);
              return;
            }
            stream.advance(count);
            if (stream.pending.length > 0) this.requeue(stream);
            else stream.end();
            return;
          }
          stream.advance(count);
          if (logitIndex === undefined) {
            this.requeue(stream); // the rest of a long prompt
            return;
          }
          try {
            const token = (await this.backend.sampleToken(logitIndex, stream.sampler)) as Token;
            // Only streams that asked: the same logits, read again before the next decode.
            if (stream.logprobs && token >= 0) {
              const { probe, top } = stream.logprobs;
              stream.sampledLogprobs.push(
                await probeLogprobs(this.backend, logitIndex, probe, token, top),
              );
            }
            if (stream.accept(token)) this.requeue(stream);
          } catch (error) {
            stream.fail(error);
          }
        }),
      );
    } finally {
      for (const { stream } of items) stream.leaveRound();
    }
  }

  /** A scoring stream's reads of this batch: each candidate's log-probability at its input index. */
  private async readScores(stream: TokenStream, reads: ScoredReads): Promise<void> {
    const score = stream.score;
    if (!score) return;
    for (const { inputIndex, output } of reads) {
      const candidates = score.at.get(inputIndex) ?? [];
      stream.scored.set(
        inputIndex,
        await probeTokenLogprobs(this.backend, output, score.probe, candidates),
      );
    }
  }

  /** Builds and decodes the batch; returns each item's output indexes (none: no logits needed yet). */
  private async decode(
    items: Array<{ stream: TokenStream; count: number }>,
  ): Promise<BatchOutputs> {
    const size = items.reduce((sum, item) => sum + item.count, 0);
    // node-llama-cpp's addon sets one count for both of llama.cpp's, so it is switched per batch.
    const threads = this.threads.threadsFor(size);
    if (threads !== this.threadsSet) {
      this.backend.setThreads(threads);
      this.threadsSet = threads;
    }
    this.backend.initBatch(size);
    const reads = new Map<number, ScoredReads>();
    const last = items.map(({ stream, count }, item): number | undefined => {
      const tokens = Uint32Array.from(stream.pending.slice(0, count));
      if (stream.score) {
        // The scored input indexes in this chunk of the input.
        const first = stream.inputDone;
        const wanted = [...stream.score.at.keys()]
          .filter((index) => index >= first && index < first + count)
          .sort((a, b) => a - b);
        const indexes = this.backend.addToBatch(
          stream.sequenceId,
          stream.position,
          tokens,
          Uint32Array.from(wanted, (index) => index - first),
        );
        reads.set(
          item,
          wanted.map((inputIndex, at) => ({ inputIndex, output: indexes[at] ?? 0 })),
        );
        return undefined;
      }
      const finishesInput = count === stream.pending.length;
      const indexes = this.backend.addToBatch(
        stream.sequenceId,
        stream.position,
        tokens,
        finishesInput ? Uint32Array.of(count - 1) : new Uint32Array(0),
      );
      return finishesInput ? indexes[0] : undefined;
    });
    await this.gate.run(async () => {
      // Timed inside the gate: waiting for another model's decode is not this decode's cost.
      const started = performance.now();
      await this.backend.decodeBatch();
      this.threads.observe(size, threads, performance.now() - started);
    });
    return { last, reads };
  }

  private requeue(stream: TokenStream): void {
    if (!stream.wantsRound) return;
    if (this.closed) stream.fail(new DecodeLoopClosedError());
    else this.queue.add(stream);
  }
}

type ScoredReads = Array<{ inputIndex: number; output: number }>;

/**
 * Where a batch's logits are: per item, its last token's (to sample; undefined: none needed
 * yet), as before scoring existed (the per-token path allocates nothing more); and, only for
 * scoring items, the reads asked for.
 */
interface BatchOutputs {
  last: Array<number | undefined>;
  reads: Map<number, ScoredReads>;
}

/**
 * The tokens one generation yields, as an async iterator. The loop pushes
 * sampled tokens in; the consumer pulls them out, and `stop()` ends the
 * generation and tells how many of its tokens belong in the KV cache.
 */
export class TokenStream implements AsyncIterator<Token, undefined> {
  readonly sequenceId: number;
  readonly sampler: NativeSampler;
  /** Input, then every sampled token, in order. */
  readonly tokens: Token[];
  /** Tokens to evaluate in the next round (the rest of the input, or the last sampled token). */
  pending: Token[];
  /** Position of `pending[0]`. */
  position: number;
  inRound = false;
  readonly logprobs: GenerationRequest['logprobs'];
  /** With `logprobs`: each sampled token's, in order. */
  readonly sampledLogprobs: TokenLogprob[] = [];
  readonly score: GenerationRequest['score'];
  /** With `score`: input index → each candidate next token's log-probability there. */
  readonly scored = new Map<number, Map<Token, number>>();

  private readonly inputLength: number;
  private readonly limit: number;
  private readonly isEnd: (token: Token) => boolean;
  /** Of `tokens`, how many the KV cache holds. */
  private evaluated = 0;
  private readonly buffer: Token[] = [];
  private consumed = 0;
  private ended = false;
  private consumerSawEnd = false;
  private stopped = false;
  private error: unknown;
  private waiting: ((result: IteratorResult<Token, undefined>) => void) | undefined;
  private waitingFailed: ((error: unknown) => void) | undefined;
  private roundLeft: (() => void) | undefined;

  constructor(
    request: GenerationRequest,
    private readonly resume: (stream: TokenStream) => void,
  ) {
    this.sequenceId = request.sequenceId;
    this.sampler = request.sampler;
    this.tokens = [...request.input];
    this.pending = [...request.input];
    this.position = request.position;
    this.inputLength = request.input.length;
    this.limit = request.limit;
    this.isEnd = request.isEnd;
    this.logprobs = request.logprobs;
    this.score = request.score;
  }

  /** Input tokens evaluated so far (while the input lasts). */
  get inputDone(): number {
    return Math.min(this.evaluated, this.inputLength);
  }

  /** Whether the loop should give this stream another round now. */
  get wantsRound(): boolean {
    return (
      !this.ended && !this.stopped && this.pending.length > 0 && this.buffer.length < LOOKAHEAD
    );
  }

  next(): Promise<IteratorResult<Token, undefined>> {
    const token = this.buffer.shift();
    if (token !== undefined) {
      this.consumed += 1;
      if (this.wantsRound && !this.inRound) this.resume(this);
      return Promise.resolve({ done: false, value: token });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) {
      this.consumerSawEnd = true;
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingFailed = reject;
    });
  }

  /**
   * Ends the generation (waiting out a round in flight, which still uses the
   * sampler) and returns how many of `tokens` belong in the KV cache — as if
   * each token was evaluated only once the consumer asked for the next one:
   * the input plus every token but the last one taken, or all evaluated
   * tokens when the consumer read to the end.
   */
  async stop(): Promise<number> {
    this.stopped = true;
    if (this.inRound) await new Promise<void>((resolve) => (this.roundLeft = resolve));
    if (this.error !== undefined) return 0;
    if (this.consumerSawEnd) return this.evaluated;
    return Math.min(this.evaluated, this.inputLength + Math.max(0, this.consumed - 1));
  }

  /** Loop: `count` pending tokens were decoded. */
  advance(count: number): void {
    this.pending = this.pending.slice(count);
    this.position += count;
    this.evaluated += count;
  }

  /** Loop: a token was sampled after the input so far; returns whether generation goes on. */
  accept(token: Token): boolean {
    if (token < 0 || this.isEnd(token)) {
      this.end();
      return false;
    }
    this.tokens.push(token);
    this.pending = [token];
    this.deliver(token);
    if (this.position >= this.limit) {
      // No room to evaluate it: the consumer still gets it, then the end.
      this.end();
      return false;
    }
    return this.wantsRound;
  }

  end(): void {
    this.ended = true;
    if (this.waiting && this.buffer.length === 0) {
      this.consumerSawEnd = true;
      this.settle({ done: true, value: undefined });
    }
  }

  fail(error: unknown): void {
    this.error = error;
    this.ended = true;
    const reject = this.waitingFailed;
    this.waiting = undefined;
    this.waitingFailed = undefined;
    reject?.(error);
  }

  leaveRound(): void {
    this.inRound = false;
    const left = this.roundLeft;
    this.roundLeft = undefined;
    left?.();
  }

  private deliver(token: Token): void {
    if (this.waiting) {
      this.consumed += 1;
      this.settle({ done: false, value: token });
    } else {
      this.buffer.push(token);
    }
  }

  private settle(result: IteratorResult<Token, undefined>): void {
    const resolve = this.waiting;
    this.waiting = undefined;
    this.waitingFailed = undefined;
    resolve?.(result);
  }
}
