import type { Token } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { PreemptedError, QueueFullError, QueueTimeoutError } from './engine-errors.js';
import { type SchedulerOptions, SequenceScheduler } from './scheduler.js';
import { type CachedSequence, SequencePool } from './sequence-pool.js';

class FakeSequence implements CachedSequence {
  tokens: Token[] = [];
  constructor(readonly id: number) {}
  truncate(length: number): void {
    this.tokens = this.tokens.slice(0, length);
  }
}

const OPTIONS: SchedulerOptions = { maxWaiting: 2, maxWaitMs: 10_000, retryAfterSeconds: 3 };

function scheduler(sequences: number, options: Partial<SchedulerOptions> = {}) {
  const all = Array.from({ length: sequences }, (_, id) => new FakeSequence(id));
  return {
    all,
    scheduler: new SequenceScheduler(new SequencePool(all), sequences, { ...OPTIONS, ...options }),
  };
}

const prompt = (...tokens: number[]) => tokens as Token[];
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('SequenceScheduler', () => {
  it('runs as many jobs as sequences, queues the next in order, and refuses the rest at once', async () => {
    const { scheduler: queue } = scheduler(1);
    const first = queue.reserve();
    const order: string[] = [];
    const second = queue.reserve();
    const third = queue.reserve();
    void second.waitForTurn().then(() => order.push('second'));
    void third.waitForTurn().then(() => order.push('third'));
    expect([queue.running, queue.queued]).toEqual([1, 2]);

    let refusal: unknown;
    try {
      queue.reserve();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(QueueFullError);
    expect((refusal as QueueFullError).retryAfterSeconds).toBe(3);
    expect(queue.rejected).toBe(1);

    first.release();
    first.release(); // idempotent: one sequence back, not two
    await settled();
    expect(order).toEqual(['second']);
    expect([queue.running, queue.queued]).toEqual([1, 1]);
    second.release();
    await settled();
    expect(order).toEqual(['second', 'third']);
    third.release();
    expect([queue.running, queue.queued]).toEqual([0, 0]);
  });

  it('gives the free sequence whose cache shares the longest prefix, and evaluates only the rest', async () => {
    const { scheduler: queue, all } = scheduler(2);
    const [a, b] = all;
    if (!a || !b) throw new Error('two sequences');
    a.tokens = prompt(1, 2, 3);
    b.tokens = prompt(1, 9, 9, 9);
    const reservation = queue.reserve();
    const turn = await reservation.acquire(prompt(1, 9, 9, 4));
    expect(turn.sequence).toBe(b);
    expect(turn.reusedTokens).toBe(3);
    expect(turn.input).toEqual([4]);
    expect(b.tokens).toEqual([1, 9, 9]);
    reservation.release();
  });

  it("keeps each conversation's sequence: a prompt sharing only a short prefix takes another", () => {
    const conversations = Array.from({ length: 3 }, (_, id) => new FakeSequence(id));
    const pool = new SequencePool(conversations);
    const [a, b, c] = conversations;
    if (!a || !b || !c) throw new Error('three sequences');
    // A system prompt (1, 2) then conversation A's turns; B and C are empty.
    a.tokens = prompt(1, 2, 10, 11, 12, 13, 14, 15);
    // Conversation B starts with the same system prompt: it takes an empty sequence, not A's.
    const started = pool.take(prompt(1, 2, 20, 21));
    expect(started.sequence).not.toBe(a);
    expect(a.tokens).toHaveLength(8);
    // A's next turn extends what A holds and finds it.
    const next = pool.take(prompt(1, 2, 10, 11, 12, 13, 14, 15, 16));
    expect(next.sequence).toBe(a);
    expect(next.reusedTokens).toBe(8);
    pool.give(a);
    pool.give(started.sequence);
  });

  it('with every sequence holding another conversation, takes the longest prefix, then the least recently used', () => {
    const all = Array.from({ length: 2 }, (_, id) => new FakeSequence(id));
    const pool = new SequencePool(all);
    const [first, second] = [pool.take(prompt(5)), pool.take(prompt(6))];
    first.sequence.tokens = prompt(1, 2, 3, 4, 5);
    second.sequence.tokens = prompt(1, 2, 7, 8, 9);
    pool.give(first.sequence);
    pool.give(second.sequence);
    // Neither fits (each would lose half of what it holds): both share 2 tokens, so the
    // one given back first goes.
    expect(pool.take(prompt(1, 2, 9, 9, 9)).sequence).toBe(first.sequence);
  });

  it('interactive jobs get the next free sequence before batch jobs that waited longer', async () => {
    const { scheduler: queue } = scheduler(2);
    const running = [queue.reserve(), queue.reserve()];
    const order: string[] = [];
    const batch = queue.reserve({ priority: 'batch' });
    const interactive = queue.reserve({ priority: 'interactive' });
    void batch.waitForTurn().then(() => order.push('batch'));
    void interactive.waitForTurn().then(() => order.push('interactive'));
    running[0]?.release();
    await settled();
    expect(order).toEqual(['interactive']);
    running[1]?.release();
    await settled();
    expect(order).toEqual(['interactive', 'batch']);
    batch.release();
    interactive.release();
  });

  it('batch jobs never take the last free sequence, so an interactive job is admitted at once', async () => {
    const { scheduler: queue } = scheduler(3);
    const batches = [0, 1, 2].map(() => queue.reserve({ priority: 'batch' }));
    const turns: number[] = [];
    batches.forEach(
      (reservation, index) => void reservation.waitForTurn().then(() => turns.push(index)),
    );
    await settled();
    expect(turns).toEqual([0, 1]);
    const interactive = queue.reserve();
    expect(await interactive.waitForTurn()).toBeLessThan(5);
    interactive.release();
    batches[0]?.release();
    await settled();
    expect(turns).toEqual([0, 1, 2]);
    for (const reservation of batches) reservation.release();
    expect(queue.running).toBe(0);
  });

  it('preemptible batch jobs take every sequence; an interactive job arriving takes the newest one back', async () => {
    const { scheduler: queue } = scheduler(3);
    const batches = [0, 1, 2].map(() => queue.reserve({ priority: 'batch', preemptible: true }));
    for (const reservation of batches) await reservation.waitForTurn();
    expect(queue.running).toBe(3);
    const waitingBatch = queue.reserve({ priority: 'batch', preemptible: true });
    const interactive = queue.reserve();
    // The most recently started gives its sequence back; the others go on.
    expect(batches.map((reservation) => reservation.preempted.aborted)).toEqual([
      false,
      false,
      true,
    ]);
    expect(batches[2]?.preempted.reason).toBeInstanceOf(PreemptedError);
    // A second interactive job finds that sequence already promised: one more is preempted.
    const second = queue.reserve();
    expect(batches.map((reservation) => reservation.preempted.aborted)).toEqual([
      false,
      true,
      true,
    ]);
    let turns = 0;
    void interactive.waitForTurn().then(() => (turns += 1));
    void second.waitForTurn().then(() => (turns += 1));
    batches[2]?.release();
    batches[1]?.release();
    await settled();
    // Both sequences went to the interactive jobs, not to the batch job waiting longer.
    expect(turns).toBe(2);
    let batchTurn = false;
    void waitingBatch.waitForTurn().then(() => (batchTurn = true));
    await settled();
    expect(batchTurn).toBe(false);
    interactive.release();
    await settled();
    expect(batchTurn).toBe(true);
    for (const reservation of [second, waitingBatch, batches[0]]) reservation?.release();
    expect(queue.running).toBe(0);
  });

  it('preempts nothing when a sequence is free, and never a batch job that is not preemptible', async () => {
    const { scheduler: queue } = scheduler(3);
    const fixed = [0, 1].map(() => queue.reserve({ priority: 'batch' }));
    for (const reservation of fixed) await reservation.waitForTurn();
    const interactive = queue.reserve();
    expect(await interactive.waitForTurn()).toBeLessThan(5);
    const another = queue.reserve();
    expect(fixed.some((reservation) => reservation.preempted.aborted)).toBe(false);
    fixed[0]?.release();
    expect(await another.waitForTurn()).toBeGreaterThanOrEqual(0);
    for (const reservation of [interactive, another, fixed[1]]) reservation?.release();
    expect(queue.running).toBe(0);
  });

  it('a waiting job whose signal aborts leaves the queue with the reason, taking no sequence', async () => {
    const { scheduler: queue } = scheduler(1);
    const holder = queue.reserve();
    const controller = new AbortController();
    const waiting = queue.reserve({ signal: controller.signal });
    controller.abort(new Error('client went away'));
    await expect(waiting.waitForTurn()).rejects.toThrow('client went away');
    expect(queue.queued).toBe(0);
    waiting.release(); // harmless after the refusal
    holder.release();
    expect(queue.running).toBe(0);
    expect(() => queue.reserve({ signal: controller.signal })).toThrow('client went away');
  });

  it('an interactive job that waits longer than maxWaitMs is turned away; a batch job keeps waiting', async () => {
    const { scheduler: queue } = scheduler(2, { maxWaitMs: 30 });
    const holders = [queue.reserve(), queue.reserve()];
    const interactive = queue.reserve();
    const batch = queue.reserve({ priority: 'batch' });
    const error = await interactive.waitForTurn().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueTimeoutError);
    expect(queue.rejected).toBe(1);
    expect(queue.queued).toBe(1);
    for (const holder of holders) holder.release();
    await batch.waitForTurn();
    batch.release();
  });

  it('a reservation released before its turn gives its place to the next', async () => {
    const { scheduler: queue } = scheduler(1);
    const holder = queue.reserve();
    const gone = queue.reserve();
    const next = queue.reserve();
    gone.release();
    holder.release();
    await next.waitForTurn();
    expect(queue.running).toBe(1);
    next.release();
  });

  it('gives a job with several choices that many sequences at once, and makes later jobs wait behind it', async () => {
    const { scheduler: queue } = scheduler(3);
    const single = queue.reserve();
    const three = queue.reserve({ sequences: 3 });
    const after = queue.reserve();
    const order: string[] = [];
    void three.waitForTurn().then(() => order.push('three'));
    void after.waitForTurn().then(() => order.push('after'));
    await settled();
    // Two sequences are free, but the three-choice job came first: nobody overtakes it.
    expect(order).toEqual([]);
    expect([queue.running, queue.queued]).toEqual([1, 2]);
    single.release();
    await settled();
    expect(order).toEqual(['three']);
    expect(queue.running).toBe(1); // one job, on all three sequences
    const leader = await three.acquire(prompt(1, 2, 3));
    const siblings = three.takeSiblings(prompt(1, 2, 3));
    expect(new Set([leader.sequence, ...siblings]).size).toBe(3);
    three.release();
    await settled();
    expect(order).toEqual(['three', 'after']);
    expect(queue.running).toBe(1);
    after.release();
    expect(() => queue.reserve({ sequences: 4 })).toThrow(RangeError);
  });

  it('starts the jobs behind a job of several choices that leaves the queue', async () => {
    const { scheduler: queue } = scheduler(3);
    const running = queue.reserve({ sequences: 2 });
    const controller = new AbortController();
    const three = queue.reserve({ sequences: 3, signal: controller.signal });
    const one = queue.reserve();
    const order: string[] = [];
    void three.waitForTurn().catch(() => order.push('three gave up'));
    void one.waitForTurn().then(() => order.push('one'));
    await settled();
    expect(order).toEqual([]);
    // The client of the three-choice job leaves: the one-sequence job behind it fits now.
    controller.abort(new Error('client left'));
    await settled();
    expect(order.sort()).toEqual(['one', 'three gave up']);
    // Jobs, not sequences: two jobs hold three sequences.
    expect(queue.running).toBe(2);
    running.release();
    one.release();
  });
});
