/**
 * One native decode at a time across every loaded model's loop. Each decode already
 * uses up to the process's thread count, so two models decoding at once would run
 * twice that many threads on the same cores and slow both; taking turns keeps every
 * busy model within one thread budget. (node-llama-cpp serialises decodes across
 * contexts too, for GPU backends that crash otherwise.) First come, first served.
 */
export class DecodeGate {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `decode` once every decode that asked before it has finished. */
  run<T>(decode: () => Promise<T>): Promise<T> {
    const result = this.tail.then(decode);
    // The next decode waits for this one whether it succeeds or fails.
    this.tail = result.then(
      () => {},
      () => {},
    );
    return result;
  }
}
