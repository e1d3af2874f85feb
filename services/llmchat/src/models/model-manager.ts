import { AdmissionQueue, ApiError, type FastifyBaseLogger } from 'hrserve';
import type { Llama } from 'node-llama-cpp';
import type { LlmchatConfig } from '../config.js';
import { LlamaEngine } from '../engine/llama-engine.js';
import {
  createLlama,
  type InspectedModel,
  inspectModel,
  ModelLoadError,
  overBudgetMessage,
} from '../engine/load-model.js';
import { llmchatErrors } from '../errors.js';
import { FOREVER, parseKeepAlive } from './keep-alive.js';
import { type ModelEntry, type ModelRegistry, namesOf } from './registry.js';

/** Seconds a client turned away (queue full) is told to wait. */
const RETRY_AFTER_SECONDS = 1;

/** A loaded model in use by one request; `release()` it when done (idempotent). */
export interface ModelLease {
  entry: ModelEntry;
  engine: LlamaEngine;
  /** Admission to this model's sequences. */
  queue: AdmissionQueue;
  release(): void;
}

/** What `/api/ps` and `/health` tell of a loaded model. */
export interface ResidentInfo {
  entry: ModelEntry;
  engine: LlamaEngine;
  estimatedRamBytes: number;
  users: number;
  lastUsedAt: number;
  keepAliveMs: number;
}

interface Resident extends ResidentInfo {
  queue: AdmissionQueue;
  timer: NodeJS.Timeout | undefined;
}

interface LoadState {
  estimatedRamBytes: number;
  /** Requests waiting for this load; each holds a use of the model once it is registered. */
  waiters: number;
  resident: Resident | undefined;
  /** Past `makeRoom`: counted against the limits by other loads. */
  reserved: boolean;
}

interface PendingLoad extends LoadState {
  promise: Promise<Resident>;
}

/**
 * Loads models on demand and unloads them: each kept for its keep-alive after
 * its last request (0: at once; forever: until room is needed), at most
 * `LLMCHAT_MAX_LOADED_MODELS` at once and within `LLMCHAT_MEMORY_BUDGET_MB`,
 * the least recently used idle model unloaded first to make room. A request
 * for a model that is loading waits for it (bounded by
 * `LLMCHAT_LOAD_TIMEOUT_MS`); loads never block requests to loaded models.
 */
export class ModelManager {
  private readonly residents = new Map<string, Resident>();
  private readonly loads = new Map<string, PendingLoad>();
  /** Woken when a model is released or unloaded: a load waiting for room looks again. */
  private roomWaiters: Array<() => void> = [];
  private rejectedByUnloaded = 0;
  private readonly defaultKeepAliveMs: number;

  private llamaInstance: Promise<Llama> | undefined;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly config: LlmchatConfig,
    private readonly log: FastifyBaseLogger,
  ) {
    this.defaultKeepAliveMs = parseKeepAlive(config.LLMCHAT_KEEP_ALIVE) ?? 5 * 60_000;
  }

  /** node-llama-cpp's instance, shared by every model, created with the first load. */
  private llama(): Promise<Llama> {
    this.llamaInstance ??= createLlama(this.config, this.log);
    return this.llamaInstance;
  }

  get models(): ModelRegistry {
    return this.registry;
  }

  /** The model a client named, loaded; 404 when no such model is configured. */
  async acquire(requested: string, options: { keepAliveMs?: number } = {}): Promise<ModelLease> {
    const entry = await this.registry.resolve(requested);
    if (!entry) throw await this.notFound(requested);
    return this.acquireEntry(entry, options);
  }

  /** `requested`, or without a name the default model (else the most recently used loaded one). */
  async acquireNamedOrDefault(requested: string | undefined): Promise<ModelLease> {
    if (requested !== undefined) return this.acquire(requested);
    const entry =
      this.registry.defaultModel ?? this.loaded()[0]?.entry ?? (await this.registry.list())[0];
    if (!entry) throw await this.notFound('(none)');
    return this.acquireEntry(entry);
  }

  async acquireEntry(
    entry: ModelEntry,
    options: { keepAliveMs?: number } = {},
  ): Promise<ModelLease> {
    let resident = this.residents.get(entry.name);
    if (resident) {
      resident.users += 1;
    } else {
      const pending = this.loads.get(entry.name) ?? this.startLoad(entry);
      pending.waiters += 1;
      try {
        resident = await withDeadline(
          pending.promise,
          this.config.LLMCHAT_LOAD_TIMEOUT_MS,
          `Model '${entry.name}' is still loading after ${this.config.LLMCHAT_LOAD_TIMEOUT_MS} ms. Retry shortly.`,
        );
      } catch (error) {
        // Gave up (or the load failed): our use is not counted, or is handed back.
        if (pending.resident) this.releaseUse(pending.resident);
        else pending.waiters -= 1;
        throw error;
      }
    }
    if (resident.timer) clearTimeout(resident.timer);
    resident.timer = undefined;
    if (options.keepAliveMs !== undefined) resident.keepAliveMs = options.keepAliveMs;
    const held = resident;
    let released = false;
    return {
      entry,
      engine: held.engine,
      queue: held.queue,
      release: () => {
        if (released) return;
        released = true;
        this.releaseUse(held);
      },
    };
  }

  /** Unloads a model now, or as soon as its requests finish. Returns whether it was loaded. */
  async unload(requested: string): Promise<boolean> {
    const entry = await this.registry.resolve(requested);
    if (!entry) throw await this.notFound(requested);
    const resident = this.residents.get(entry.name);
    if (!resident) return false;
    resident.keepAliveMs = 0;
    if (resident.users === 0) await this.evict(resident, 'unload requested');
    return true;
  }

  /** Loaded models, most recently used first. */
  loaded(): ResidentInfo[] {
    return [...this.residents.values()].sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  /** Whether the model is loaded right now. */
  isLoaded(entry: ModelEntry): boolean {
    return this.residents.has(entry.name);
  }

  queueTotals(): { running: number; waiting: number; rejected: number } {
    let running = 0;
    let waiting = 0;
    let rejected = this.rejectedByUnloaded;
    for (const { queue } of this.residents.values()) {
      running += queue.active;
      waiting += queue.queued;
      rejected += queue.rejected;
    }
    return { running, waiting, rejected };
  }

  async close(): Promise<void> {
    for (const resident of [...this.residents.values()]) await this.evict(resident, 'shutdown');
    if (this.llamaInstance) await (await this.llamaInstance).dispose();
  }

  private releaseUse(resident: Resident): void {
    resident.users -= 1;
    resident.lastUsedAt = Date.now();
    if (resident.users === 0) this.scheduleExpiry(resident);
    this.wakeRoomWaiters();
  }

  private scheduleExpiry(resident: Resident): void {
    if (resident.keepAliveMs === FOREVER) return;
    if (resident.keepAliveMs <= 0) {
      void this.evict(resident, 'keep_alive 0');
      return;
    }
    resident.timer = setTimeout(() => {
      if (resident.users === 0) void this.evict(resident, 'keep_alive expired');
    }, resident.keepAliveMs);
    resident.timer.unref();
  }

  private startLoad(entry: ModelEntry): PendingLoad {
    const state: LoadState = {
      estimatedRamBytes: 0,
      waiters: 0,
      resident: undefined,
      reserved: false,
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

  private async load(entry: ModelEntry, pending: LoadState): Promise<Resident> {
    const started = performance.now();
    let inspected: InspectedModel;
    try {
      inspected = await inspectModel(entry, this.config, await this.llama(), this.log);
    } catch (error) {
      throw this.loadFailed(entry, error);
    }
    const budget = this.budgetBytes();
    if (inspected.estimatedRamBytes > budget) {
      throw new ApiError(llmchatErrors.modelTooLarge, overBudgetMessage(inspected, this.config), {
        param: 'model',
      });
    }
    pending.estimatedRamBytes = inspected.estimatedRamBytes;
    await this.makeRoom(entry, pending);
    let engine: LlamaEngine;
    try {
      engine = await LlamaEngine.create(inspected, this.config, await this.llama());
    } catch (error) {
      throw this.loadFailed(entry, error);
    }
    const resident: Resident = {
      entry,
      engine,
      queue: new AdmissionQueue({
        concurrency: this.config.LLMCHAT_PARALLEL,
        maxWaiting: this.config.LLMCHAT_QUEUE_SIZE,
        maxWaitMs: this.config.LLMCHAT_QUEUE_TIMEOUT_MS,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      }),
      estimatedRamBytes: inspected.estimatedRamBytes,
      users: pending.waiters,
      lastUsedAt: Date.now(),
      keepAliveMs: entry.origin === 'LLMCHAT_MODEL' ? FOREVER : this.defaultKeepAliveMs,
      timer: undefined,
    };
    this.residents.set(entry.name, resident);
    pending.resident = resident;
    this.log.info(
      { model: engine.info, load_ms: Math.round(performance.now() - started) },
      'model loaded',
    );
    if (resident.users === 0) this.scheduleExpiry(resident);
    return resident;
  }

  /**
   * Unloads least recently used idle models until this one fits the count and
   * the memory budget; waits for requests to finish when every model is busy.
   */
  private async makeRoom(entry: ModelEntry, pending: LoadState): Promise<void> {
    const deadline = Date.now() + this.config.LLMCHAT_LOAD_TIMEOUT_MS;
    for (;;) {
      const otherLoads = [...this.loads.entries()].filter(
        ([name, load]) => name !== entry.name && load.reserved,
      );
      const count = this.residents.size + otherLoads.length;
      const used =
        [...this.residents.values()].reduce((sum, r) => sum + r.estimatedRamBytes, 0) +
        otherLoads.reduce((sum, [, load]) => sum + load.estimatedRamBytes, 0);
      const fits =
        count < this.config.LLMCHAT_MAX_LOADED_MODELS &&
        used + pending.estimatedRamBytes <= this.budgetBytes();
      if (fits) {
        pending.reserved = true;
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
      if (left <= 0) {
        throw new ApiError(
          llmchatErrors.modelBusy,
          `No room to load '${entry.name}': every loaded model is serving requests (at most ${this.config.LLMCHAT_MAX_LOADED_MODELS} loaded at once). Retry shortly.`,
          { headers: { 'retry-after': '5' } },
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async evict(resident: Resident, reason: string): Promise<void> {
    if (this.residents.get(resident.entry.name) !== resident) return;
    this.residents.delete(resident.entry.name);
    if (resident.timer) clearTimeout(resident.timer);
    this.rejectedByUnloaded += resident.queue.rejected;
    await resident.engine.dispose();
    this.log.info({ model: resident.entry.name, reason }, 'model unloaded');
    this.wakeRoomWaiters();
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private budgetBytes(): number {
    const budgetMb = this.config.LLMCHAT_MEMORY_BUDGET_MB;
    return budgetMb === undefined ? Number.POSITIVE_INFINITY : budgetMb * 1024 * 1024;
  }

  /** The full reason goes to the log; the client hears which model and where to look (no paths). */
  private loadFailed(entry: ModelEntry, error: unknown): ApiError {
    const reason = error instanceof ModelLoadError ? error.message : String(error);
    this.log.error({ err: error, model: entry.name }, reason);
    return new ApiError(
      llmchatErrors.modelUnavailable,
      `Model '${entry.name}' could not be loaded; the server's log says why (${entry.origin}).`,
      { cause: error },
    );
  }

  private async notFound(requested: string): Promise<ApiError> {
    const names = (await this.registry.list()).flatMap(namesOf);
    return new ApiError(
      llmchatErrors.modelNotFound,
      `The model '${requested.slice(0, 200)}' does not exist. This server serves: ${names.join(', ') || 'no models'}.`,
      { param: 'model' },
    );
  }
}

/** The promise's value, or a 503 once `ms` have passed (the promise itself runs on). */
async function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ApiError(llmchatErrors.modelLoading, message, { headers: { 'retry-after': '5' } }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
