import { ApiError, errorCatalogue } from '../errors/catalogue.js';

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
 */
export class AdmissionQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];
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
    return this.waiting.length;
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

  /** Waits for a slot; throws a 429 `ApiError` when the queue is full, or the abort reason when aborted. */
  acquire(signal?: AbortSignal): Promise<Slot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const enqueuedAt = performance.now();
    if (this.free) {
      this.running += 1;
      return Promise.resolve(this.slot(0));
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

  private remove(waiter: Waiter): void {
    const index = this.waiting.indexOf(waiter);
    if (index !== -1) this.waiting.splice(index, 1);
    waiter.cleanup();
  }

  private slot(waitedMs: number): Slot {
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.running -= 1;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.running < this.options.concurrency) {
      const waiter = this.waiting.shift();
      if (!waiter) return;
      waiter.cleanup();
      this.running += 1;
      waiter.resolve(this.slot(performance.now() - waiter.enqueuedAt));
    }
  }
}
