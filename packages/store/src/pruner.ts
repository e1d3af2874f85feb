/**
 * Runs a prune now and then in the background: once at start, then every `intervalMs`.
 * One run at a time (a run still going when the timer fires is not doubled); the timer is
 * unref()'d so it never keeps a process alive; `stop()` clears it and waits for the run in
 * flight, so nothing touches the database after the store closes.
 */
export class Pruner {
  readonly #prune: () => Promise<unknown>;
  readonly #onError: (error: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: {
    prune: () => Promise<unknown>;
    intervalMs: number;
    onError: (error: unknown) => void;
  }) {
    this.#prune = options.prune;
    this.#onError = options.onError;
    this.#timer = setInterval(() => this.#tick(), options.intervalMs).unref();
    this.#tick();
  }

  #tick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#prune()
      .then(
        () => undefined,
        (error: unknown) => this.#onError(error),
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }
}
