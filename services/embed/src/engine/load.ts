import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyBaseLogger } from 'hrserve';
import {
  getLlama,
  type Llama,
  LlamaLogLevel,
  type LlamaModel,
  resolveModelFile,
} from 'node-llama-cpp';
import type { EmbedConfig } from '../config.js';

/** A model that cannot be served, with what is wrong and how to fix it. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

const isRemote = (source: string) => /^(hf:|huggingface:|https?:\/\/)/i.test(source);

/** EMBED_MODEL as a file: a local path as is, an hf: URI downloaded once into EMBED_MODELS_DIR. */
async function resolveSource(config: EmbedConfig, log: FastifyBaseLogger): Promise<string> {
  const source = config.EMBED_MODEL;
  if (!isRemote(source)) {
    try {
      await access(source);
    } catch {
      throw new ModelLoadError(
        `EMBED_MODEL is "${source}", but no file exists there. Set EMBED_MODEL to the path of a .gguf file, or to a Hugging Face URI such as hf:<user>/<repo>:<quant>.`,
      );
    }
    return source;
  }
  try {
    return await resolveModelFile(source, {
      directory: config.EMBED_MODELS_DIR,
      cli: false,
      onProgress: ({ totalSize, downloadedSize }) =>
        log.debug(
          { model: source, downloaded_bytes: downloadedSize, total_bytes: totalSize },
          'downloading model',
        ),
    });
  } catch (error) {
    throw new ModelLoadError(
      `Could not resolve ${source} (${error instanceof Error ? error.message : String(error)}). Offline, download it elsewhere and set EMBED_MODEL to the file's path.`,
      { cause: error },
    );
  }
}

export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  path: string;
  /** Ids clients use in `model`. */
  ids: string[];
}

export async function loadModel(config: EmbedConfig, log: FastifyBaseLogger): Promise<LoadedModel> {
  const path = await resolveSource(config, log);
  const llama = await getLlama({
    gpu: config.EMBED_GPU === 'false' ? false : config.EMBED_GPU,
    // Never compile or download binaries at run time: the prebuilt addon or a prior source build.
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    maxThreads: config.EMBED_THREADS * config.EMBED_CONTEXTS,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      const text = message.trim();
      if (!text) return;
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
        log.error({ llama: text }, 'llama.cpp');
      else log.warn({ llama: text }, 'llama.cpp');
    },
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
