import { createLlama, ModelLoadError } from '@hrserve/models';
import type { FastifyBaseLogger } from 'hrserve';
import { engineOptionsOf, type LlmchatConfig } from '../config.js';
import { ConstraintCompiler } from '../engine/constraints.js';
import { DecodeGate } from '../engine/decode-gate.js';
import { type EngineShared, LlamaEngine } from '../engine/llama-engine.js';
import type { ModelEngine } from '../engine/model-engine.js';
import type { EngineOptions } from '../engine/options.js';
import { FOREVER, parseKeepAlive } from './keep-alive.js';
import { ModelNotFoundError } from './model-errors.js';
import { inspectModel, overBudgetMessage } from './model-files.js';
import { type ModelEntry, type ModelRegistry, namesOf } from './registry.js';
import {
  type AcquireOptions,
  type ModelLoader,
  type PreparedModel,
  Residency,
  type ResidentInfo,
} from './residency.js';

/** What the per-model metrics show of a loaded model. */
export interface ModelState {
  model: string;
  running: number;
  waiting: number;
  kvCacheUsage: number;
}

/** A loaded model: its engine (which owns its sequences and their queue). */
export interface LoadedModel {
  engine: ModelEngine;
  dispose(): Promise<void>;
}

/** A loaded model in use by one request; `release()` it when done (idempotent). */
export interface ModelLease {
  entry: ModelEntry;
  engine: ModelEngine;
  release(): void;
}

/** What `/api/ps` and `/health` tell of a loaded model. */
export interface ResidentModel {
  entry: ModelEntry;
  engine: ModelEngine;
  estimatedRamBytes: number;
  users: number;
  lastUsedAt: number;
  keepAliveMs: number;
}

/**
 * llmchat's models by name: the registry says which exist, `Residency` which are
 * loaded (keep-alive, count, memory budget, LRU), and the loader loads them (by
 * default with node-llama-cpp, one instance for the process).
 */
export class ModelManager {
  private readonly residency: Residency<LoadedModel>;
  private rejectedByUnloaded = 0;
  /** What every model shares: the llama.cpp instance, one decode at a time, compiled grammars. */
  private shared: Promise<EngineShared> | undefined;
  private readonly options: EngineOptions;
  private readonly loadStatusListeners = new Set<(entry: ModelEntry, status: string) => void>();

  constructor(
    readonly registry: ModelRegistry,
    private readonly config: LlmchatConfig,
    private readonly log: FastifyBaseLogger,
    /** Sizes and loads a model; by default with node-llama-cpp (tests give a scripted engine). */
    loader?: ModelLoader<LoadedModel>,
    /** Where the memory budget comes from and how to raise it (memory-budget.ts), for refusals. */
    private readonly raiseBudget?: string,
  ) {
    this.options = engineOptionsOf(config);
    const defaultKeepAliveMs = parseKeepAlive(config.LLMCHAT_KEEP_ALIVE) ?? 5 * 60_000;
    const budgetMb = config.LLMCHAT_MEMORY_BUDGET_MB;
    this.residency = new Residency<LoadedModel>({
      loader: loader ?? ((entry) => this.prepare(entry)),
      maxLoaded: config.LLMCHAT_MAX_LOADED_MODELS,
      budgetBytes: budgetMb === undefined ? Number.POSITIVE_INFINITY : budgetMb * 1024 * 1024,
      loadTimeoutMs: config.LLMCHAT_LOAD_TIMEOUT_MS,
      // The default model stays; others go after their keep-alive.
      keepAliveMs: (entry) => (entry.origin === 'LLMCHAT_MODEL' ? FOREVER : defaultKeepAliveMs),
      onLoaded: ({ model }, loadMs) =>
        this.log.info({ model: model.engine.info, load_ms: loadMs }, 'model loaded'),
      onUnloaded: ({ entry, model }, reason) => {
        this.rejectedByUnloaded += model.engine.queue.rejected;
        this.log.info({ model: entry.name, reason }, 'model unloaded');
      },
      // The full reason goes to the log; the client hears which model and where to look (no paths).
      onLoadFailed: (entry, error) =>
        this.log.error(
          { err: error, model: entry.name },
          error instanceof ModelLoadError ? error.message : String(error),
        ),
    });
  }

  /** Created with the first load; the decode gate keeps every busy model within one thread budget. */
  private engineShared(): Promise<EngineShared> {
    this.shared ??= createLlama({
      gpu: this.config.LLMCHAT_GPU,
      gpuSetting: 'LLMCHAT_GPU',
      maxThreads: this.options.threads.budget,
      log: this.log,
    }).then((llama) => ({
      llama,
      gate: new DecodeGate(),
      constraints: new ConstraintCompiler(llama),
    }));
    return this.shared;
  }

  /**
   * Calls `listener` with what each load is doing (downloading 40%, waiting for
   * the network, loading weights): the start shows it on /health and to systemd.
   */
  onLoadStatus(listener: (entry: ModelEntry, status: string) => void): () => void {
    this.loadStatusListeners.add(listener);
    return () => this.loadStatusListeners.delete(listener);
  }

  /** Sizes the entry's model from its file (downloading an hf: URI once); loads on demand. */
  private async prepare(entry: ModelEntry): Promise<PreparedModel<LoadedModel>> {
    // Loads take seconds to minutes: the start is worth a line (and tells a test it has begun).
    this.log.info({ model: entry.name }, 'loading model');
    const status = (text: string) => {
      for (const listener of this.loadStatusListeners) listener(entry, text);
    };
    const shared = await this.engineShared();
    const inspected = await inspectModel(entry, this.config, shared.llama, this.log, status);
    return {
      estimatedRamBytes: inspected.estimatedRamBytes,
      overBudgetMessage: () => overBudgetMessage(inspected, this.config, this.raiseBudget),
      load: async () => {
        status(
          `loading ${entry.name} (${Math.ceil(inspected.estimatedRamBytes / 1024 / 1024)} MiB)`,
        );
        const engine = await LlamaEngine.create(inspected, this.options, shared);
        return { engine, dispose: () => engine.dispose() };
      },
    };
  }

  /** The configured model a client named, without loading it; `ModelNotFoundError` when none is. */
  async entryOf(requested: string): Promise<ModelEntry> {
    const entry = await this.registry.resolve(requested);
    if (!entry) throw await this.notFound(requested);
    return entry;
  }

  /** The model a client named, loaded; `ModelNotFoundError` when no such model is configured. */
  async acquire(
    requested: string,
    options: { keepAliveMs?: number; signal?: AbortSignal } = {},
  ): Promise<ModelLease> {
    return this.acquireEntry(await this.entryOf(requested), options);
  }

  /** `requested`, or without a name the default model (else the most recently used loaded one). */
  async acquireNamedOrDefault(requested: string | undefined): Promise<ModelLease> {
    if (requested !== undefined) return this.acquire(requested);
    const entry =
      this.registry.defaultModel ?? this.loaded()[0]?.entry ?? (await this.registry.list())[0];
    if (!entry) throw await this.notFound('(none)');
    return this.acquireEntry(entry);
  }

  async acquireEntry(entry: ModelEntry, options: AcquireOptions = {}): Promise<ModelLease> {
    const lease = await this.residency.acquire(entry, options);
    return { entry, engine: lease.model.engine, release: lease.release };
  }

  /** Unloads a model now, or as soon as its requests finish. Returns whether it was loaded. */
  async unload(requested: string): Promise<boolean> {
    const entry = await this.registry.resolve(requested);
    if (!entry) throw await this.notFound(requested);
    return this.residency.unload(entry);
  }

  /** Loaded models, most recently used first. */
  loaded(): ResidentModel[] {
    return this.residency.loaded().map(residentModel);
  }

  /** Whether the model is loaded right now. */
  isLoaded(entry: ModelEntry): boolean {
    return this.residency.isLoaded(entry);
  }

  /** Each loaded model's queue and KV cache, for the per-model metrics. */
  modelStates(): ModelState[] {
    return this.residency.loaded().map(({ entry, model }) => ({
      model: entry.name,
      running: model.engine.queue.running,
      waiting: model.engine.queue.waiting,
      kvCacheUsage: model.engine.kvCacheUsage,
    }));
  }

  queueTotals(): { running: number; waiting: number; rejected: number } {
    let running = 0;
    let waiting = 0;
    let rejected = this.rejectedByUnloaded;
    for (const { model } of this.residency.loaded()) {
      const queue = model.engine.queue;
      running += queue.running;
      waiting += queue.waiting;
      rejected += queue.rejected;
    }
    return { running, waiting, rejected };
  }

  async close(): Promise<void> {
    await this.residency.close();
    // A llama.cpp instance that never came up (a GPU that is not there) has nothing to free.
    const shared = await this.shared?.catch(() => undefined);
    await shared?.llama.dispose();
  }

  /** The error for a name no configured model answers to, listing those that exist. */
  async notFound(requested: string): Promise<ModelNotFoundError> {
    const names = (await this.registry.list()).flatMap(namesOf);
    return new ModelNotFoundError(
      `The model '${requested.slice(0, 200)}' does not exist. This server serves: ${names.join(', ') || 'no models'}.`,
    );
  }
}

function residentModel({ entry, model, ...use }: ResidentInfo<LoadedModel>): ResidentModel {
  return {
    entry,
    engine: model.engine,
    estimatedRamBytes: use.estimatedRamBytes,
    users: use.users,
    lastUsedAt: use.lastUsedAt,
    keepAliveMs: use.keepAliveMs,
  };
}
