import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../errors/catalogue.js';
import { AdmissionQueue } from './admission-queue.js';

const options = { concurrency: 2, maxWaiting: 2, retryAfterSeconds: 3, maxWaitMs: 10_000 };

describe('AdmissionQueue', () => {
  it('runs up to its concurrency, queues up to maxWaiting in order, and refuses the rest with 429 at once', async () => {
    const queue = new AdmissionQueue(options);
    const first = await queue.acquire();
    const second = await queue.acquire();
    const order: string[] = [];
    const third = queue.acquire().then((slot) => {
      order.push('third');
      return slot;
    });
    const fourth = queue.acquire().then((slot) => {
      order.push('fourth');
      return slot;
    });
    expect([queue.active, queue.queued]).toEqual([2, 2]);

    const refused = await queue.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(429);
    expect((refused as ApiError).headers['retry-after']).toBe('3');
    expect(queue.rejected).toBe(1);

    first.release();
    first.release(); // releasing twice frees one slot, not two
    const thirdSlot = await third;
    expect(thirdSlot.waitedMs).toBeGreaterThanOrEqual(0);
    expect([queue.active, queue.queued]).toEqual([2, 1]);
    second.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
  });

  it('drops a waiter whose client aborts, without taking a slot', async () => {
    const queue = new AdmissionQueue({ ...options, concurrency: 1 });
    const holder = await queue.acquire();
    const controller = new AbortController();
    const waiting = queue.acquire(controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(queue.queued).toBe(0);
    holder.release();
    expect(queue.active).toBe(0);
  });

  it('turns away a waiter that waited longer than maxWaitMs with 503', async () => {
    const queue = new AdmissionQueue({ ...options, concurrency: 1, maxWaitMs: 50 });
    await queue.acquire();
    const error = await queue.acquire().catch((caught: unknown) => caught);
    expect((error as ApiError).status).toBe(503);
    expect(queue.queued).toBe(0);
  });

  it('refuseIfFull throws the same 429 as acquire, only when the queue is full', async () => {
    const queue = new AdmissionQueue({
      concurrency: 1,
      maxWaiting: 1,
      maxWaitMs: 10_000,
      retryAfterSeconds: 2,
    });
    expect(() => queue.refuseIfFull()).not.toThrow();
    const first = await queue.acquire();
    expect(() => queue.refuseIfFull()).not.toThrow();
    const second = queue.acquire();
    let refusal: unknown;
    try {
      queue.refuseIfFull();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ status: 429, headers: { 'retry-after': '2' } });
    await expect(queue.acquire()).rejects.toMatchObject({ status: 429 });
    expect(queue.rejected).toBe(2);
    first.release();
    (await second).release();
    expect(() => queue.refuseIfFull()).not.toThrow();
  });
  it('admits batch work only where interactive work leaves room, and never to the last slot', async () => {
    const queue = new AdmissionQueue({ ...options, concurrency: 3 });
    const batchOne = await queue.acquire(undefined, 'batch');
    const batchTwo = await queue.acquire(undefined, 'batch');
    const order: string[] = [];
    // The third slot is kept for interactive work: this batch item waits.
    const batchThree = queue.acquire(undefined, 'batch').then((slot) => {
      order.push('batch');
      return slot;
    });
    expect([queue.active, queue.queued]).toEqual([2, 1]);
    const interactive = await queue.acquire();
    expect(queue.active).toBe(3);
    const waitingInteractive = queue.acquire().then((slot) => {
      order.push('interactive');
      return slot;
    });
    batchOne.release();
    // The interactive waiter goes first, though the batch item waited longer.
    (await waitingInteractive).release();
    interactive.release();
    await batchThree;
    expect(order).toEqual(['interactive', 'batch']);
    batchTwo.release();
  });

  it('lets batch work wait without a time limit, and leave when aborted', async () => {
    vi.useFakeTimers();
    try {
      const queue = new AdmissionQueue({ ...options, concurrency: 1, maxWaitMs: 100 });
      const held = await queue.acquire();
      const controller = new AbortController();
      const waiting = queue.acquire(controller.signal, 'batch');
      vi.advanceTimersByTime(10_000);
      expect(queue.queued).toBe(1);
      controller.abort(new Error('cancelled'));
      await expect(waiting).rejects.toThrow('cancelled');
      expect(queue.queued).toBe(0);
      held.release();
    } finally {
      vi.useRealTimers();
    }
  });
});
