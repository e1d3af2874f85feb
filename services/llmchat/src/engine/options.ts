/** How the engine runs a model: parsed once from the config and handed down (app.ts). */
export interface EngineOptions {
  /** Sequences of a model's one context: requests generating at once. */
  parallel: number;
  /** CPU threads: `single` for one-token batches, `batch` for larger ones (prompts). */
  threads: { single: number; batch: number };
  /** Tokens evaluated per batch at most. */
  batchSize: number;
  flashAttention: 'auto' | 'on' | 'off';
  /** Layers offloaded to a GPU, when there is one. */
  gpuLayers: 'auto' | 'max' | number;
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
