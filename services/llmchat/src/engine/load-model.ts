import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyBaseLogger } from 'hrserve';
import {
  GgufInsights,
  getLlama,
  type Llama,
  LlamaLogLevel,
  type LlamaModel,
  readGgufFileInfo,
  resolveModelFile,
} from 'node-llama-cpp';
import type { LlmchatConfig } from '../config.js';
import type { ModelEntry } from '../models/registry.js';

/** A model that cannot be served, with what is wrong and how to fix it. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  /** Resolved file on disk. */
  path: string;
  /** Ids clients use in `model`: the aliases, or the file name without `.gguf`. */
  ids: string[];
  /** Tokens of context per sequence. */
  contextSize: number;
  trainContextSize: number | undefined;
  /** Estimated RAM the weights and the context need, in bytes. */
  estimatedRamBytes: number;
}

const isRemote = (source: string) => /^(hf:|huggingface:|https?:\/\/)/i.test(source);

/** Local path as is; `hf:` URIs and URLs downloaded once into the models directory, progress logged. */
async function resolveSource(
  entry: ModelEntry,
  config: LlmchatConfig,
  log: FastifyBaseLogger,
): Promise<string> {
  const { source } = entry;
  if (!isRemote(source)) {
    try {
      await access(source);
    } catch {
      throw new ModelLoadError(
        `${entry.origin} names "${source}" for model ${entry.name}, but no file exists there. Point it at a .gguf file, or at a Hugging Face URI such as hf:<user>/<repo>:<quant>.`,
      );
    }
    return source;
  }
  let lastLoggedPercent = -10;
  try {
    return await resolveModelFile(source, {
      directory: config.LLMCHAT_MODELS_DIR,
      cli: false,
      onProgress: ({ totalSize, downloadedSize }) => {
        const percent = totalSize > 0 ? Math.floor((downloadedSize / totalSize) * 100) : 0;
        if (percent >= lastLoggedPercent + 10) {
          lastLoggedPercent = percent;
          log.info(
            { model: source, percent, downloaded_bytes: downloadedSize, total_bytes: totalSize },
            'downloading model',
          );
        }
      },
    });
  } catch (error) {
    throw new ModelLoadError(
      `Could not resolve ${source} (${error instanceof Error ? error.message : String(error)}). Models download once into LLMCHAT_MODELS_DIR (${config.LLMCHAT_MODELS_DIR}); offline, download it elsewhere and point ${entry.origin} at the file's path.`,
      { cause: error },
    );
  }
}

/** The one node-llama-cpp instance every model of this process loads into. */
export function createLlama(config: LlmchatConfig, log: FastifyBaseLogger): Promise<Llama> {
  return getLlama({
    gpu: config.LLMCHAT_GPU === 'false' ? false : config.LLMCHAT_GPU,
    // Never compile or download binaries at run time: the prebuilt addon or a prior source build.
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    maxThreads: Math.max(config.LLMCHAT_THREADS, config.LLMCHAT_BATCH_THREADS),
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      const text = message.trim();
      if (!text) return;
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
        log.error({ llama: text }, 'llama.cpp');
      else log.warn({ llama: text }, 'llama.cpp');
    },
  });
}

/** A model resolved to a file and sized from its GGUF header, not loaded yet. */
export interface InspectedModel {
  entry: ModelEntry;
  path: string;
  contextSize: number;
  trainContextSize: number | undefined;
  estimatedRamBytes: number;
}

/**
 * Resolves the model's file (downloading an hf: URI once) and estimates the
 * RAM its weights and context need from the GGUF header, before anything is
 * loaded, so a model over the budget is refused without touching RAM.
 */
export async function inspectModel(
  entry: ModelEntry,
  config: LlmchatConfig,
  llama: Llama,
  log: FastifyBaseLogger,
): Promise<InspectedModel> {
  const path = await resolveSource(entry, config, log);
  let insights: GgufInsights;
  try {
    insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
  } catch (error) {
    throw new ModelLoadError(
      `${basename(path)} is not a readable GGUF model (${error instanceof Error ? error.message : String(error)}). Point ${entry.origin} at a valid .gguf file.`,
      { cause: error },
    );
  }
  const trainContextSize = insights.trainContextSize;
  const contextSize = config.LLMCHAT_CONTEXT_SIZE ?? Math.min(trainContextSize ?? 4096, 4096);
  const gpuLayers =
    llama.gpu === false
      ? 0
      : typeof config.LLMCHAT_GPU_LAYERS === 'number'
        ? config.LLMCHAT_GPU_LAYERS
        : insights.totalLayers;
  const modelNeeds = insights.estimateModelResourceRequirements({ gpuLayers });
  const contextNeeds = insights.estimateContextResourceRequirements({
    contextSize,
    modelGpuLayers: gpuLayers,
    sequences: config.LLMCHAT_PARALLEL,
    batchSize: config.LLMCHAT_BATCH_SIZE,
  });
  const estimatedRamBytes = Math.round(modelNeeds.cpuRam + contextNeeds.cpuRam);
  return { entry, path, contextSize, trainContextSize, estimatedRamBytes };
}

/** Why a model over the memory budget cannot be loaded, and what to change. */
export function overBudgetMessage(inspected: InspectedModel, config: LlmchatConfig): string {
  return `${basename(inspected.path)} needs about ${Math.ceil(inspected.estimatedRamBytes / 1024 / 1024)} MiB of RAM (weights and a ${inspected.contextSize}-token context for ${config.LLMCHAT_PARALLEL} sequences), over LLMCHAT_MEMORY_BUDGET_MB=${config.LLMCHAT_MEMORY_BUDGET_MB}. Raise the budget, lower LLMCHAT_CONTEXT_SIZE or LLMCHAT_PARALLEL, or use a smaller quantization.`;
}

export async function loadModel(
  inspected: InspectedModel,
  config: LlmchatConfig,
  llama: Llama,
): Promise<LoadedModel> {
  const { path, entry } = inspected;
  let model: LlamaModel;
  try {
    model = await llama.loadModel({
      modelPath: path,
      gpuLayers: llama.gpu === false ? 0 : config.LLMCHAT_GPU_LAYERS,
    });
  } catch (error) {
    throw new ModelLoadError(
      `llama.cpp could not load ${basename(path)} (${error instanceof Error ? error.message : String(error)}). Check that the file is a complete, uncorrupted GGUF model.`,
      { cause: error },
    );
  }
  return {
    llama,
    model,
    path,
    ids: [entry.name, ...entry.aliases],
    contextSize: inspected.contextSize,
    trainContextSize: inspected.trainContextSize,
    estimatedRamBytes: inspected.estimatedRamBytes,
  };
}
