import type { Token } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { DecodeGate } from './decode-gate.js';
import {
  type DecodeBackend,
  DecodeLoop,
  DecodeLoopClosedError,
  type TokenStream,
} from './decode-loop.js';
import type { NativeSampler } from './native.js';
import { ONE_THREAD } from './thread-policy.js';

interface Added {
  sequenceId: number;
  position: number;
  tokens: number[];
}

/**
 * A context that "decodes" by recording batches and "samples" the token after
 * the last one of each sequence (+1), or an end token once a sequence passes
 * `endAfter` tokens.
 */
class FakeBackend implements DecodeBackend {
  readonly batches: Added[][] = [];
  failNextDecode = false;
  /** When set, a decode waits for it: a round held in flight. */
  decodeGate: Promise<void> | undefined;
  decoding = false;

  /** `inFlight` counts decodes running right now across every backend sharing it. */
  constructor(private readonly inFlight = { now: 0, most: 0 }) {}
  private current: Added[] = [];
  private outputs: Added[] = [];
  /** Each output's index within its added tokens. */
  private offsets: number[] = [];

  initBatch(): void {
    this.current = [];
    this.outputs = [];
    this.offsets = [];
    this.batches.push(this.current);
  }

  addToBatch(
    sequenceId: number,
    position: number,
    tokens: Uint32Array,
    logitIndexes: Uint32Array,
  ): Uint32Array {
    const added = { sequenceId, position, tokens: [...tokens] };
    this.current.push(added);
    const indexes = [...logitIndexes].map((offset) => {
      this.offsets.push(offset);
      return this.outputs.push(added) - 1;
    });
    return Uint32Array.from(indexes);
  }

  async decodeBatch(): Promise<void> {
    this.decoding = true;
    this.inFlight.now += 1;
    this.inFlight.most = Math.max(this.inFlight.most, this.inFlight.now);
    await new Promise((resolve) => setImmediate(resolve));
    await this.decodeGate;
    this.inFlight.now -= 1;
    this.decoding = false;
    if (this.failNextDecode) {
      this.failNextDecode = false;
      throw new Error('could not find a KV slot for the batch');
    }
  }

  /** Thread counts set before each decode, in order. */
  readonly threads: number[] = [];

  setThreads(threads: number): void {
    this.threads.push(threads);
  }

  /**
   * Samples the last token + 1. Asked for logits (a scoring read), answers as the native
   * call does — the top-1 pair, then each filter token's — with every filter token's logit
   * minus its position, so a read tells where it was taken.
   */
  async sampleToken(
    batchLogitIndex: number,
    _sampler?: NativeSampler,
    _probabilities?: boolean,
    _confidence?: boolean,
    logits?: [number[], boolean, boolean, boolean, number],
  ): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    const added = this.outputs[batchLogitIndex];
    if (!added) throw new Error(`no output ${batchLogitIndex}`);
    if (!logits) return (added.tokens.at(-1) ?? 0) + 1;
    const position = added.position + (this.offsets[batchLogitIndex] ?? 0);
    const pairs = [0, 0, ...logits[0].flatMap((token) => [token, -position])];
    // The native answer is a tuple; the overload the loop calls types it as unknown.
    return [0, undefined, undefined, pairs, 1] as unknown as number;
  }
}

const sampler: NativeSampler = { applyConfig() {}, dispose() {} };
const END = 1000 as Token;

function start(loop: DecodeLoop, sequenceId: number, input: number[], limit = 4096): TokenStream {
  return loop.generate({
    sequenceId,
    position: 0,
    input: input as Token[],
    sampler,
    limit,
    isEnd: (token) => token === END,
  });
}

async function take(stream: TokenStream, count: number): Promise<number[]> {
  const tokens: number[] = [];
  for (let index = 0; index < count; index++) {
    const next = await stream.next();
    if (next.done) break;
    tokens.push(next.value);
  }
  return tokens;
}

describe('DecodeLoop', () => {
  it('decodes generating sequences together, one token each, in sequence-id order', async () => {
    const backend = new FakeBackend();
    const loop = new DecodeLoop(backend, 64);
    const streams = [start(loop, 2, [20]), start(loop, 0, [0]), start(loop, 1, [10])];
    const outputs = await Promise.all(streams.map((stream) => take(stream, 3)));
    expect(outputs).toEqual([
      [21, 22, 23],
      [1, 2, 3],
      [11, 12, 13],
    ]);
    // Every batch holds all three sequences, ordered by id, at consecutive positions.
    for (const [round, batch] of backend.batches.slice(0, 3).entries()) {
      expect(batch.map((added) => added.sequenceId)).toEqual([0, 1, 2]);
      expect(batch.map((added) => added.position)).toEqual([round, round, round]);
    }
    await Promise.all(streams.map((stream) => stream.stop()));
  });

  it('splits a prompt longer than the batch over rounds, single tokens first', async () => {
    const backend = new FakeBackend();
    const loop = new DecodeLoop(backend, 4);
    const generating = start(loop, 0, [100]);
    await take(generating, 1);
    const prompt = start(loop, 1, [1, 2, 3, 4, 5, 6, 7]);
    expect(await take(prompt, 1)).toEqual([8]);
    const promptParts = backend.batches
      .flat()
      .filter((added) => added.sequenceId === 1)
      .map((added) => [added.position, added.tokens.length]);
    // 3 + 3 + 1 tokens alongside sequence 0's single token each round, positions continuing.
    expect(promptParts).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    await Promise.all([generating.stop(), prompt.stop()]);
  });

  it('keeps in the KV cache only what the consumer took, however far the loop ran ahead', async () => {
    const loop = new DecodeLoop(new FakeBackend(), 64);
    const stream = start(loop, 0, [1, 2, 3]);
    expect(await take(stream, 2)).toEqual([4, 5]);
    // Let the loop run ahead of the consumer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The input (3) and token 4 (asked past); token 5 is the caller's to evaluate.
    expect(await stream.stop()).toBe(4);
    expect(stream.tokens.slice(0, 4)).toEqual([1, 2, 3, 4]);
  });

  it('runs at most two tokens ahead of a consumer that stops reading', async () => {
    const backend = new FakeBackend();
    const loop = new DecodeLoop(backend, 64);
    const stream = start(loop, 0, [1]);
    await take(stream, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Prompt round, then one round per token sampled ahead: 2 tokens waiting, no more.
    expect(backend.batches.length).toBeLessThanOrEqual(3);
    expect(await take(stream, 2)).toEqual([3, 4]);
    await stream.stop();
  });

  it('ends at an end token or when the sequence is full, keeping everything evaluated', async () => {
    const loop = new DecodeLoop(new FakeBackend(), 64);
    const ending = start(loop, 0, [997]);
    expect(await take(ending, 10)).toEqual([998, 999]);
    expect(await ending.stop()).toBe(3);

    const full = start(loop, 1, [1, 2], 4);
    // Tokens 3 and 4 are evaluated at positions 2 and 3; 5 is yielded with no room to evaluate it.
    expect(await take(full, 10)).toEqual([3, 4, 5]);
    expect(await full.stop()).toBe(4);
  });

  it('fails the streams of a batch that does not decode, and keeps serving others', async () => {
    const backend = new FakeBackend();
    const loop = new DecodeLoop(backend, 64);
    backend.failNextDecode = true;
    const failing = start(loop, 0, [1]);
    await expect(failing.next()).rejects.toThrow('KV slot');
    expect(await failing.stop()).toBe(0);
    const next = start(loop, 1, [1]);
    expect(await take(next, 2)).toEqual([2, 3]);
    await next.stop();
  });

  it('never decodes for a stream after stop(), even one waiting in the queue', async () => {
    const backend = new FakeBackend();
    // A batch of one token: the two streams take turns, so one always waits in the queue.
    const loop = new DecodeLoop(backend, 1);
    const a = start(loop, 0, [1]);
    const b = start(loop, 1, [1]);
    await Promise.all([take(a, 2), take(b, 2)]);
    const stopped = backend.batches.length;
    await b.stop();
    await take(a, 3);
    const afterStop = backend.batches.slice(stopped + 1).flat();
    expect(afterStop.length).toBeGreaterThan(0);
    expect(afterStop.every((added) => added.sequenceId === 0)).toBe(true);
    await a.stop();
  });

  it('on close, finishes the round in flight before resolving, and takes no more work', async () => {
    const backend = new FakeBackend();
    const loop = new DecodeLoop(backend, 64);
    let open: () => void = () => {};
    backend.decodeGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const stream = start(loop, 0, [1]);
    const next = stream.next();
    while (!backend.decoding) await new Promise((resolve) => setImmediate(resolve));

    let closed = false;
    const closing = loop.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false); // the native decode is still running: nothing may be freed yet
    open();
    await closing;
    expect(backend.decoding).toBe(false);
    // The round's token is delivered; the generation then ends with the loop's error.
    expect(await next).toEqual({ done: false, value: 2 });
    await expect(stream.next()).rejects.toBeInstanceOf(DecodeLoopClosedError);
    await stream.stop();

    const late = start(loop, 1, [5]);
    await expect(late.next()).rejects.toBeInstanceOf(DecodeLoopClosedError);
    expect(backend.batches).toHaveLength(1);
  });

  it("two models' loops sharing the process's gate never decode at once", async () => {
    const inFlight = { now: 0, most: 0 };
    const gate = new DecodeGate();
    const loops = [0, 1].map(() => new DecodeLoop(new FakeBackend(inFlight), 64, ONE_THREAD, gate));
    const streams = loops.map((loop, index) => start(loop, 0, [index * 100]));
    const outputs = await Promise.all(streams.map((stream) => take(stream, 5)));
    expect(outputs).toEqual([
      [1, 2, 3, 4, 5],
      [101, 102, 103, 104, 105],
    ]);
    expect(inFlight.most).toBe(1);
    await Promise.all(streams.map((stream) => stream.stop()));

    // Without the shared gate, the same two loops do decode at once (what the gate prevents).
    const free = { now: 0, most: 0 };
    const apart = [0, 1].map((index) =>
      start(new DecodeLoop(new FakeBackend(free), 64), 0, [index]),
    );
    await Promise.all(apart.map((stream) => take(stream, 5)));
    expect(free.most).toBe(2);
    await Promise.all(apart.map((stream) => stream.stop()));
  });

  it("asks the thread choice for each batch by its token count, sets threads only when they change, and reports each decode's time", async () => {
    const backend = new FakeBackend();
    const asked: number[] = [];
    const timed: Array<[number, number]> = [];
    const loop = new DecodeLoop(backend, 64, {
      threadsFor(tokens) {
        asked.push(tokens);
        return tokens >= 10 ? 2 : 1;
      },
      observe(tokens, threads, ms) {
        expect(ms).toBeGreaterThanOrEqual(0);
        timed.push([tokens, threads]);
      },
    });
    // A 12-token prompt, then one token per round.
    const stream = start(
      loop,
      0,
      Array.from({ length: 12 }, (_, index) => index),
    );
    await take(stream, 3);
    await stream.stop();
    expect(asked.slice(0, 3)).toEqual([12, 1, 1]);
    expect(backend.threads).toEqual([2, 1]);
    // Each decode's time is reported with the batch and the threads it ran with.
    expect(timed.slice(0, 3)).toEqual([
      [12, 2],
      [1, 1],
      [1, 1],
    ]);
  });

  it('scores: evaluates the input over rounds, reading candidates at the indexes asked, sampling nothing', async () => {
    const backend = new FakeBackend();
    const loop = new DecodeLoop(backend, 2);
    const stream = loop.generate({
      sequenceId: 0,
      position: 5,
      input: [10, 11, 12, 13] as Token[],
      sampler: sampler,
      limit: 64,
      isEnd: () => false,
      score: {
        at: new Map([
          [1, [99 as Token]],
          [3, [7 as Token, 8 as Token]],
        ]),
        probe: sampler,
      },
    });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(await stream.stop()).toBe(4);
    // Two rounds of two tokens; index 1 is position 6, index 3 position 8.
    expect(backend.batches.map((batch) => batch.map((added) => added.tokens))).toEqual([
      [[10, 11]],
      [[12, 13]],
    ]);
    expect(stream.scored).toEqual(
      new Map([
        [1, new Map([[99, -6]])],
        [
          3,
          new Map([
            [7, -8],
            [8, -8],
          ]),
        ],
      ]),
    );
  });
});
