import { FOREVER } from './keep-alive.js';
import { type LongTimeout, longTimeout } from './long-timeout.js';
import {
  ModelLoadFailedError,
  ModelLoadTimeoutError,
  ModelsClosedError,
  ModelTooLargeError,
  NoRoomError,
} from './model-errors.js';
import type { ModelEntry } from './registry.js';

/** A loaded model as residency sees it: something to free when it goes. */
export interface Disposable {
  dispose(): Promise<void>;
}

/** A model sized from its file, not loaded yet. */
export interface PreparedModel<M> {
  estimatedRamBytes: number;
  /** Why it can never fit a budget of `budgetBytes`, and what to change. */
  overBudgetMessage(budgetBytes: number): string;
  load(): Promise<M>;
}

/** Sizes and loads models; injected, so the policy is tested with fakes. */
export type ModelLoader<M> = (entry: ModelEntry) => Promise<PreparedModel<M>>;

export interface ResidencyOptions<M> {
  loader: ModelLoader<M>;
  /** Models loaded at once at most. */
  maxLoaded: number;
  /** Bytes all loaded models may take together, by estimate (Infinity: no budget). */
  budgetBytes: number;
  /** Longest a request waits for its model to load, or for room to load it. */
  loadTimeoutMs: number;
  /** How long a model stays loaded after its last use when no request says otherwise. */
  keepAliveMs(entry: ModelEntry): number;
  onLoaded?(resident: ResidentInfo<M>, loadMs: number): void;
  onUnloaded?(resident: ResidentInfo<M>, reason: string): void;
  onLoadFailed?(entry: ModelEntry, error: unknown): void;
}

/** A loaded model and its use. */
export interface ResidentInfo<M> {
  entry: ModelEntry;
  model: M;
  estimatedRamBytes: number;
  /** Leases not yet released. */
  users: number;
  lastUsedAt: number;
  keepAliveMs: number;
}

/** A loaded model in use; `release()` it when done (idempotent). */
export interface Lease<M> {
  entry: ModelEntry;
  model: M;
  release(): void;
}

interface Resident<M> extends ResidentInfo<M> {
  timer: LongTimeout | undefined;
}

interface LoadState<M> {
  estimatedRamBytes: number;
  /** Requests waiting for this load; each holds a use of the model once it is registered. */
  waiters: number;
  resident: Resident<M> | undefined;
  /** Past `makeRoom`: counted against the limits by other loads. */
  reserved: boolean;
  /** Waiting for a model in use to be released: what a request that gives up is told. */
  waitingForRoom: boolean;
}

interface PendingLoad<M> extends LoadState<M> {
  promise: Promise<Resident<M>>;
}

/**
 * Which models are loaded: each loaded on first use and kept for its keep-alive after
 * its last lease (0: unloaded at once; FOREVER: until room is needed), at most
 * `maxLoaded` at once and within `budgetBytes`, the least recently used idle model
 * unloaded first to make room. A lease for a model that is loading waits for it
 * (bounded by `loadTimeoutMs`); loads never block leases of loaded models.
 */
export interface AcquireOptions {
  keepAliveMs?: number;
  signal?: AbortSignal;
  /** How long to wait for the load; default `loadTimeoutMs` (a request's bound; the start waits longer). */
  timeoutMs?: number;
}

export class Residency<M extends Disposable> {
  private readonly residents = new Map<string, Resident<M>>();
  private readonly loads = new Map<string, PendingLoad<M>>();
  /** Woken when a model is released or unloaded: a load waiting for room looks again. */
  private roomWaiters: Array<() => void> = [];
  private closing = false;

  constructor(private readonly options: ResidencyOptions<M>) {}

  /**
   * The entry's model, loaded; `keepAliveMs` replaces its keep-alive from now on. An
   * aborted `signal` stops the wait for a load (or for room) with its reason; the load
   * itself goes on for whoever else needs the model.
   */
  async acquire(entry: ModelEntry, options: AcquireOptions = {}): Promise<Lease<M>> {
    if (this.closing) throw new ModelsClosedError();
    options.signal?.throwIfAborted();
    let resident = this.residents.get(entry.name);
    if (resident) {
      resident.users += 1;
    } else {
      const pending = this.loads.get(entry.name) ?? this.startLoad(entry);
      pending.waiters += 1;
      try {
        resident = await withDeadline(
          pending.promise,
          options.timeoutMs ?? this.options.loadTimeoutMs,
          () =>
            pending.waitingForRoom
              ? new NoRoomError(entry.name, this.options.maxLoaded)
              : new ModelLoadTimeoutError(entry.name, this.options.loadTimeoutMs),
          options.signal,
        );
      } catch (error) {
        // Gave up (or the load failed): our use is not counted, or is handed back.
        if (pending.resident) this.releaseUse(pending.resident);
        else pending.waiters -= 1;
        throw error;
      }
    }
    resident.timer?.clear();
    resident.timer = undefined;
    if (options.keepAliveMs !== undefined) resident.keepAliveMs = options.keepAliveMs;
    const held = resident;
    let released = false;
    return {
      entry,
      model: held.model,
      release: () => {
        if (released) return;
        released = true;
        this.releaseUse(held);
      },
    };
  }

  /** Unloads the entry's model now, or once its leases are released. Whether it was loaded. */
  async unload(entry: ModelEntry): Promise<boolean> {
    const resident = this.residents.get(entry.name);
    if (!resident) return false;
    resident.keepAliveMs = 0;
    if (resident.users === 0) await this.evict(resident, 'unload requested');
    return true;
  }

  /** Loaded models, most recently used first. */
  loaded(): ResidentInfo<M>[] {
    return [...this.residents.values()].sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  isLoaded(entry: ModelEntry): boolean {
    return this.residents.has(entry.name);
  }

  /**
   * Refuses new leases, lets loads in flight finish (their models are freed, never
   * registered), waits up to `graceMs` for every lease to be released — a model is not
   * freed under a request still using it — then unloads every model.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + graceMs;
    await Promise.allSettled([...this.loads.values()].map((load) => load.promise));
    while ([...this.residents.values()].some((resident) => resident.users > 0)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const resident of [...this.residents.values()]) {
      await this.evict(resident, resident.users > 0 ? 'shutdown (still in use)' : 'shutdown');
    }
  }

  private releaseUse(resident: Resident<M>): void {
    resident.users -= 1;
    resident.lastUsedAt = Date.now();
    if (resident.users === 0) this.scheduleExpiry(resident);
    this.wakeRoomWaiters();
  }

  private scheduleExpiry(resident: Resident<M>): void {
    if (resident.keepAliveMs === FOREVER) return;
    if (resident.keepAliveMs <= 0) {
      void this.evict(resident, 'keep_alive 0');
      return;
    }
    // Any duration means what it says: over ~24.8 days the timer is re-armed in steps.
    resident.timer = longTimeout(() => {
      if (resident.users === 0) void this.evict(resident, 'keep_alive expired');
    }, resident.keepAliveMs);
  }

  private startLoad(entry: ModelEntry): PendingLoad<M> {
    const state: LoadState<M> = {
      estimatedRamBytes: 0,
      waiters: 0,
      resident: undefined,
      reserved: false,
      waitingForRoom: false,
    };
    const promise = this.load(entry, state).finally(() => {
      this.loads.delete(entry.name);
      this.wakeRoomWaiters();
    });
    // Waiters that gave up must not leave an unhandled rejection behind.
    promise.catch(() => {});
    const pending = Object.assign(state, { promise });
    this.loads.set(entry.name, pending);
    return pending;
  }

  private async load(entry: ModelEntry, pending: LoadState<M>): Promise<Resident<M>> {
    const started = performance.now();
    let prepared: PreparedModel<M>;
    try {
      prepared = await this.options.loader(entry);
    } catch (error) {
      throw this.loadFailed(entry, error);
    }
    if (prepared.estimatedRamBytes > this.options.budgetBytes) {
      throw new ModelTooLargeError(prepared.overBudgetMessage(this.options.budgetBytes));
    }
    pending.estimatedRamBytes = prepared.estimatedRamBytes;
    await this.makeRoom(entry, pending);
    let model: M;
    try {
      model = await prepared.load();
    } catch (error) {
      throw this.loadFailed(entry, error);
    }
    if (this.closing) {
      await model.dispose();
      throw new ModelsClosedError();
    }
    const resident: Resident<M> = {
      entry,
      model,
      estimatedRamBytes: prepared.estimatedRamBytes,
      users: pending.waiters,
      lastUsedAt: Date.now(),
      keepAliveMs: this.options.keepAliveMs(entry),
      timer: undefined,
    };
    this.residents.set(entry.name, resident);
    pending.resident = resident;
    this.options.onLoaded?.(resident, Math.round(performance.now() - started));
    if (resident.users === 0) this.scheduleExpiry(resident);
    return resident;
  }

  /**
   * Unloads least recently used idle models until this one fits the count and the
   * memory budget; waits for leases to be released when every model is in use.
   */
  private async makeRoom(entry: ModelEntry, pending: LoadState<M>): Promise<void> {
    const deadline = Date.now() + this.options.loadTimeoutMs;
    for (;;) {
      const otherLoads = [...this.loads.entries()].filter(
        ([name, load]) => name !== entry.name && load.reserved,
      );
      const count = this.residents.size + otherLoads.length;
      const used =
        [...this.residents.values()].reduce((sum, r) => sum + r.estimatedRamBytes, 0) +
        otherLoads.reduce((sum, [, load]) => sum + load.estimatedRamBytes, 0);
      const fits =
        count < this.options.maxLoaded &&
        used + pending.estimatedRamBytes <= this.options.budgetBytes;
      if (fits) {
        pending.reserved = true;
        pending.waitingForRoom = false;
        return;
      }
      const idle = [...this.residents.values()]
        .filter((resident) => resident.users === 0)
        .sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0];
      if (idle) {
        await this.evict(idle, `making room for ${entry.name}`);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new NoRoomError(entry.name, this.options.maxLoaded);
      pending.waitingForRoom = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async evict(resident: Resident<M>, reason: string): Promise<void> {
    if (this.residents.get(resident.entry.name) !== resident) return;
    this.residents.delete(resident.entry.name);
    resident.timer?.clear();
    await resident.model.dispose();
    this.options.onUnloaded?.(resident, reason);
    this.wakeRoomWaiters();
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private loadFailed(entry: ModelEntry, error: unknown): ModelLoadFailedError {
    this.options.onLoadFailed?.(entry, error);
    return new ModelLoadFailedError(entry.name, entry.origin, { cause: error });
  }
}

/**
 * The promise's value, or `timeout()` thrown once `ms` have passed, or the signal's
 * reason once it aborts (the promise runs on either way).
 */
async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  timeout: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // No deadline at all for Infinity (setTimeout would fire at once).
    if (Number.isFinite(ms)) timer = setTimeout(() => reject(timeout()), ms);
    onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
