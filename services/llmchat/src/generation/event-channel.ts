/**
 * Events pushed by a producer and pulled by one consumer with `for await`, in
 * order. The producer never waits: events queue until pulled (a generation
 * emits a few per token, and the consumer writes them to a socket).
 */
export class EventChannel<T> implements AsyncIterable<T> {
  private readonly queued: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(event: T): void {
    if (this.ended) return;
    this.queued.push(event);
    this.notify();
  }

  /** No more events; the consumer's loop ends once it has the queued ones. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const event = this.queued.shift();
      if (event !== undefined) {
        yield event;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
