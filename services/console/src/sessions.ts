import { randomBytes } from 'node:crypto';
import { keyMatcher } from 'hrserve';

/** The session cookie's name; its value is a random id the server keeps, nothing else. */
export const SESSION_COOKIE = 'hrserve_console';

/** Sessions at most: a script logging in forever cannot grow the process. */
const MAX_SESSIONS = 10_000;

/**
 * Logins to the console, kept in memory: a browser presents an API key once and gets a
 * random session id (the cookie) that stands in for it until it goes unused for `ttlMs`,
 * the user logs out or the console restarts. The key itself is never stored in the browser.
 */
export class Sessions {
  readonly #lastUsed = new Map<string, number>();
  readonly #isKey: (key: string) => boolean;
  readonly #required: boolean;

  constructor(
    apiKeys: readonly string[],
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#isKey = keyMatcher(apiKeys);
    this.#required = apiKeys.length > 0;
  }

  /** Whether logging in is needed at all (API_KEYS is set). */
  get required(): boolean {
    return this.#required;
  }

  /** Compared in constant time against every key, as the services compare theirs. */
  keyIsValid(key: string): boolean {
    return this.#isKey(key);
  }

  /** A new session id; the oldest session goes when there are too many. */
  open(): string {
    if (this.#lastUsed.size >= MAX_SESSIONS) {
      const oldest = this.#lastUsed.keys().next().value;
      if (oldest !== undefined) this.#lastUsed.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    this.#lastUsed.set(id, this.now());
    return id;
  }

  /** Whether `id` is a live session; using it extends it (and moves it to the newest end). */
  touch(id: string | undefined): boolean {
    if (!id) return false;
    const lastUsed = this.#lastUsed.get(id);
    if (lastUsed === undefined) return false;
    this.#lastUsed.delete(id);
    if (this.now() - lastUsed > this.ttlMs) return false;
    this.#lastUsed.set(id, this.now());
    return true;
  }

  close(id: string | undefined): void {
    if (id) this.#lastUsed.delete(id);
  }

  get size(): number {
    return this.#lastUsed.size;
  }
}
