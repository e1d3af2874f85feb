/**
 * A loop's pause that a `wake()` cuts short. A wake while the loop is busy is remembered:
 * its next `sleep` returns at once, so no wake is lost.
 */
export class Waker {
  #wakeup: (() => void) | undefined;
  #woken = false;

  wake(): void {
    this.#woken = true;
    this.#wakeup?.();
  }

  sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#woken = false;
        this.#wakeup = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.#wakeup = done;
    });
  }
}

/** A warning at most once a minute: a store that is down would otherwise log every poll. */
export class RateLimitedWarning {
  #last = 0;

  constructor(
    private readonly log: { warn(object: Record<string, unknown>, message: string): void },
  ) {}

  warn(error: unknown, message: string): void {
    if (Date.now() - this.#last < 60_000) return;
    this.#last = Date.now();
    this.log.warn({ err: error }, message);
  }
}
