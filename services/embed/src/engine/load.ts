import { basename } from 'node:path';
import {
  createLlama,
  ModelLoadError,
  NETWORK_WAIT_AT_START_MS,
  networkRetryLine,
  resolveModelSource,
} from '@hrserve/models';
import type { FastifyBaseLogger } from 'hrserve';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import type { EmbedConfig } from '../config.js';

export { ModelLoadError };

/** EMBED_MODEL as a file: a local path as is, an hf: URI downloaded once into EMBED_MODELS_DIR. */
function resolveSource(
  config: EmbedConfig,
  log: FastifyBaseLogger,
  status: (status: string) => void,
): Promise<string> {
  return resolveModelSource(config.EMBED_MODEL, {
    // Loaded at start, maybe at boot before the network is up: wait for it, saying so.
    waitForNetwork: {
      waitMs: NETWORK_WAIT_AT_START_MS,
      onRetry: (retry) => {
        log.warn(networkRetryLine(config.EMBED_MODEL, retry));
        status(
          `waiting for the network to download ${config.EMBED_MODEL} (attempt ${retry.attempt})`,
        );
      },
    },
    directory: config.EMBED_MODELS_DIR,
    subject: `EMBED_MODEL is "${config.EMBED_MODEL}"`,
    setting: 'EMBED_MODEL',
    onProgress: ({ percent, downloadedBytes, totalBytes, tenth }) => {
      if (tenth) {
        log.info(
          {
            model: config.EMBED_MODEL,
            percent,
            downloaded_bytes: downloadedBytes,
            total_bytes: totalBytes,
          },
          'downloading model',
        );
      }
      status(
        `downloading ${config.EMBED_MODEL}: ${percent}% of ${Math.ceil(totalBytes / 2 ** 20)} MB`,
      );
    },
  });
}

export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  path: string;
  /** Ids clients use in `model`. */
  ids: string[];
}

/** `status` hears what the load is doing (waiting for the network, downloading N%): /health and systemd. */
export async function loadModel(
  config: EmbedConfig,
  log: FastifyBaseLogger,
  status: (status: string) => void = () => {},
): Promise<LoadedModel> {
  const path = await resolveSource(config, log, status);
  status(`loading ${basename(path)}`);
  const llama = await createLlama({
    gpu: config.EMBED_GPU,
    gpuSetting: 'EMBED_GPU',
    maxThreads: config.EMBED_THREADS * config.EMBED_CONTEXTS,
    log,
  });
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path, gpuLayers: llama.gpu === false ? 0 : 'auto' });
  } catch (error) {
    throw new ModelLoadError(
      `llama.cpp could not load ${basename(path)} (${error instanceof Error ? error.message : String(error)}). Check that EMBED_MODEL is a complete, uncorrupted GGUF model.`,
      { cause: error },
    );
  }
  const ids = config.EMBED_MODEL_ALIAS?.length
    ? config.EMBED_MODEL_ALIAS
    : [basename(path).replace(/\.gguf$/i, '')];
  return { llama, model, path, ids };
}
