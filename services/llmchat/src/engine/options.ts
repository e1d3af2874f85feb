import type { SchedulerOptions } from './scheduler.js';
import type { ThreadOptions } from './thread-policy.js';

/** How the engine runs models: parsed once from the config and handed down (config.ts). */
export interface EngineOptions {
  /** Sequences of a model's one context: jobs generating at once. */
  parallel: number;
  /** The process's CPU threads and how each batch's share is chosen. */
  threads: ThreadOptions;
  /** Tokens evaluated per batch at most. */
  batchSize: number;
  flashAttention: 'auto' | 'on' | 'off';
  /** Layers offloaded to a GPU, when there is one. */
  gpuLayers: 'auto' | 'max' | number;
  /** Each model's waiting queue. */
  queue: SchedulerOptions;
}

/** A model file sized for loading (models/model-files.ts makes it from a registry entry). */
export interface ModelFile {
  path: string;
  /** Ids clients use in `model`: the name, then the aliases. */
  ids: string[];
  /** Tokens of context per sequence. */
  contextSize: number;
  trainContextSize: number | undefined;
  /** Estimated RAM the weights and the context need, in bytes. */
  estimatedRamBytes: number;
}
