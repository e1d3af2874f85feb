/**
 * Least recently used values with a bound on both their count and their size.
 *
 * The compiled grammars of client schemas live here: clients send the same few
 * schemas again and again, but a client that sends a new one each time must
 * not grow the process. An evicted value is only dropped: a `LlamaGrammar`
 * has no dispose, its native side holds the grammar text and nothing else,
 * and the parsed grammar each generation uses is freed with that generation's
 * sampler.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private totalBytes = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** The value, now the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * Keeps `value` as the most recently used, evicting the least recently used
   * until both bounds hold. A value larger than `maxBytes` alone is not kept.
   */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.totalBytes += bytes;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.totalBytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  /** Corrects the size of a kept value (known only once it is built). */
  resize(key: string, bytes: number): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    this.set(key, entry.value, bytes);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
