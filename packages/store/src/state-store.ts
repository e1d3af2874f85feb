import { classifyFault, type StoreFault, StoreUnavailableError } from './faults.js';
import type { StoreOptions } from './options.js';
import { openStore, type Store } from './store.js';

/** The subset of pino's logger a StateStore reports to. */
export interface StateStoreLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** The store is not open (yet, or any more): stateful routes answer 503, stateless ones go on. */
export class StoreNotReadyError extends Error {
  override readonly name = 'StoreNotReadyError';

  constructor(
    readonly fault: StoreFault | 'opening' | 'cannot_open' | 'closed',
    options?: { cause?: unknown },
  ) {
    super(`the store is not open (${fault})`, options);
  }
}

export interface StoreHealth {
  backend: 'sqlite' | 'postgres';
  state: 'opening' | 'ok' | 'unavailable';
  /** Why it is unavailable: a fault name, never a path or a URL (/health is open). */
  fault?: string;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * A service's handle on its durable store. The store opens in the background: a database
 * that is down at start delays nothing but the stateful routes, which answer 503 until it
 * opens (retried, backing off to every 30 s). A schema that cannot be migrated is not
 * retried: it needs an operator (the log says what).
 */
export class StateStore {
  #store: Store | undefined;
  #fault: StoreNotReadyError['fault'] = 'opening';
  #retry: NodeJS.Timeout | undefined;
  #opening: Promise<void> | undefined;
  #closed = false;
  readonly #waiting: Array<(store: Store | undefined) => void> = [];
  readonly backend: 'sqlite' | 'postgres';

  constructor(
    private readonly options: StoreOptions,
    private readonly log: StateStoreLogger,
    /** Runs once the store is open, before routes use it (failing orphaned responses, say). */
    private readonly onOpen: (store: Store) => Promise<void> = async () => {},
    private readonly open: (options: StoreOptions) => Promise<Store> = openStore,
  ) {
    this.backend = options.databaseUrl ? 'postgres' : 'sqlite';
  }

  /** Opens the store; resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    this.#opening ??= this.#attempt(FIRST_RETRY_MS);
    return this.#opening;
  }

  /**
   * Resolves with the store once it is open (at once when it is); undefined when it is
   * closed first or cannot be opened (a failed migration: it needs an operator).
   */
  whenOpen(): Promise<Store | undefined> {
    if (this.#store) return Promise.resolve(this.#store);
    if (this.#closed || this.#fault === 'cannot_open') return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** The open store; `StoreNotReadyError` while it is not. */
  current(): Store {
    if (this.#store) return this.#store;
    throw new StoreNotReadyError(this.#closed ? 'closed' : this.#fault);
  }

  health(): StoreHealth {
    if (this.#store) return { backend: this.backend, state: 'ok' };
    if (this.#fault === 'opening') return { backend: this.backend, state: 'opening' };
    return { backend: this.backend, state: 'unavailable', fault: this.#fault };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#settleWaiting(undefined);
    clearTimeout(this.#retry);
    await this.#opening;
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }

  async #attempt(delayMs: number): Promise<void> {
    try {
      const store = await this.open(this.options);
      if (this.#closed) {
        await store.close();
        return;
      }
      try {
        await this.onOpen(store);
      } catch (error) {
        await store.close().catch(() => {});
        throw error;
      }
      this.#store = store;
      this.#settleWaiting(store);
      this.log.info(
        { backend: store.backend, location: store.location, migrations: store.migrationsRun },
        `store open (${store.backend} at ${store.location})`,
      );
    } catch (error) {
      if (this.#closed) return;
      const fault = error instanceof StoreUnavailableError ? error.fault : classifyFault(error);
      if (!fault) {
        // A failed migration, bad options, a Node without node:sqlite: retrying cannot help.
        this.#fault = 'cannot_open';
        this.#settleWaiting(undefined);
        this.log.error(
          { err: error },
          `the store cannot be opened: ${error instanceof Error ? error.message : String(error)}. Stateful routes answer 503 until this is fixed and the service restarted; stateless ones work.`,
        );
        return;
      }
      this.#fault = fault;
      this.log.warn(
        { err: error, retry_in_ms: delayMs },
        `the store is unavailable (${fault}); trying again in ${Math.round(delayMs / 1000)} s. Stateful routes answer 503 meanwhile; stateless ones work.`,
      );
      this.#retry = setTimeout(() => {
        this.#opening = this.#attempt(Math.min(delayMs * 2, MAX_RETRY_MS));
      }, delayMs);
      this.#retry.unref();
    }
  }

  #settleWaiting(store: Store | undefined): void {
    for (const resolve of this.#waiting.splice(0)) resolve(store);
  }
}
