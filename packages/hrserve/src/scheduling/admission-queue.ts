import { ApiError, errorCatalogue } from '../errors/catalogue.js';
import type { WorkPriority } from './work-priority.js';

export interface AdmissionQueueOptions {
  /** Work items that may run at once (e.g. context sequences). */
  concurrency: number;
  /** Items that may wait for a slot; one more is turned away at once with 429. */
  maxWaiting: number;
  /** Seconds a turned-away client is told to wait (`Retry-After`). */
  retryAfterSeconds: number;
  /** Milliseconds an item may wait for a slot before it is turned away (503). */
  maxWaitMs: number;
}

/** A slot held by one work item; release it exactly once (in a `finally`). */
export interface Slot {
  /** Milliseconds the item waited before it got its slot. */
  readonly waitedMs: number;
  release(): void;
}

interface Waiter {
  priority: WorkPriority;
  enqueuedAt: number;
  resolve(slot: Slot): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/**
 * Admission control for a service's scarce workers: at most `concurrency`
 * items run, at most `maxWaiting` wait in FIFO order, and anything beyond is
 * refused immediately (429 with Retry-After) rather than piling up. A waiter
 * whose client goes away (abort signal) leaves the queue at once.
 *
 * Batch work (a batch's lines) waits behind every interactive item, without a time limit,
 * and (with more than one slot) never takes the last free slot: an interactive request
 * arriving finds one free instead of waiting behind a batch.
 */
export class AdmissionQueue {
  private running = 0;
  private runningBatch = 0;
  private readonly waiting: Waiter[] = [];
  private readonly waitingBatch: Waiter[] = [];
  private rejectedCount = 0;

  constructor(private readonly options: AdmissionQueueOptions) {
    if (options.concurrency < 1) throw new RangeError('concurrency must be at least 1');
  }

  /** Items holding a slot now. */
  get active(): number {
    return this.running;
  }

  /** Items waiting for a slot now. */
  get queued(): number {
    return this.waiting.length + this.waitingBatch.length;
  }

  /** Batch items leave one slot to interactive ones (when there is more than one). */
  private get batchLimit(): number {
    return Math.max(1, this.options.concurrency - 1);
  }

  /** A batch item may start now: a slot within the batch limit, and nobody waiting ahead. */
  private get freeForBatch(): boolean {
    return (
      this.running < this.options.concurrency &&
      this.runningBatch < this.batchLimit &&
      this.waiting.length === 0 &&
      this.waitingBatch.length === 0
    );
  }

  /** Items refused since start (queue full or waited too long). */
  get rejected(): number {
    return this.rejectedCount;
  }

  /**
   * Throws the 429 `acquire` would throw if the queue is full now. Callers
   * check before costly preparation (rendering a prompt), so a refusal under
   * overload is immediate instead of waiting behind that work.
   */
  refuseIfFull(): void {
    if (this.full) throw this.refusal();
  }

  /** A slot is free now (and nobody is ahead in the queue). */
  private get free(): boolean {
    return this.running < this.options.concurrency && this.waiting.length === 0;
  }

  /** No slot free and no place left to wait: a new item is refused. */
  private get full(): boolean {
    return !this.free && this.waiting.length >= this.options.maxWaiting;
  }

  private refusal(): ApiError {
    this.rejectedCount += 1;
    return new ApiError(
      errorCatalogue.rateLimited,
      `The server is at capacity (${this.options.concurrency} running, ${this.waiting.length} waiting). Retry after ${this.options.retryAfterSeconds} s.`,
      { headers: { 'retry-after': String(this.options.retryAfterSeconds) } },
    );
  }

  /**
   * Waits for a slot; throws a 429 `ApiError` when the queue is full, or the abort reason
   * when aborted. `batch` work waits behind interactive work (see the class).
   */
  acquire(signal?: AbortSignal, priority: WorkPriority = 'interactive'): Promise<Slot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const enqueuedAt = performance.now();
    if (priority === 'batch') return this.acquireForBatch(signal, enqueuedAt);
    if (this.free) {
      this.running += 1;
      return Promise.resolve(this.slot(0, 'interactive'));
    }
    if (this.full) return Promise.reject(this.refusal());
    return new Promise<Slot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.remove(waiter);
        this.rejectedCount += 1;
        reject(
          new ApiError(
            errorCatalogue.overloaded,
            `The request waited ${this.options.maxWaitMs} ms for capacity without getting it. Retry after ${this.options.retryAfterSeconds} s.`,
            { headers: { 'retry-after': String(this.options.retryAfterSeconds) } },
          ),
        );
      }, this.options.maxWaitMs);
      timer.unref();
      const onAbort = () => {
        this.remove(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        priority: 'interactive',
        enqueuedAt,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A batch item's slot: no time limit, its own bound on waiters. */
  private acquireForBatch(signal: AbortSignal | undefined, enqueuedAt: number): Promise<Slot> {
    if (this.freeForBatch) {
      this.running += 1;
      this.runningBatch += 1;
      return Promise.resolve(this.slot(0, 'batch'));
    }
    if (this.waitingBatch.length >= this.options.maxWaiting) {
      return Promise.reject(this.refusal());
    }
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        priority: 'batch',
        enqueuedAt,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waitingBatch.push(waiter);
    });
  }

  private remove(waiter: Waiter): void {
    const queue = waiter.priority === 'batch' ? this.waitingBatch : this.waiting;
    const index = queue.indexOf(waiter);
    if (index !== -1) queue.splice(index, 1);
    waiter.cleanup();
    // A batch waiter that leaves may unblock none; an interactive one may unblock batch work.
    this.next();
  }

  private slot(waitedMs: number, priority: WorkPriority): Slot {
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.running -= 1;
        if (priority === 'batch') this.runningBatch -= 1;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.running < this.options.concurrency) {
      const interactive = this.waiting.shift();
      if (interactive) {
        interactive.cleanup();
        this.running += 1;
        interactive.resolve(this.slot(performance.now() - interactive.enqueuedAt, 'interactive'));
        continue;
      }
      if (this.runningBatch >= this.batchLimit) return;
      const batch = this.waitingBatch.shift();
      if (!batch) return;
      batch.cleanup();
      this.running += 1;
      this.runningBatch += 1;
      batch.resolve(this.slot(performance.now() - batch.enqueuedAt, 'batch'));
    }
  }
}
