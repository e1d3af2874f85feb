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
async function resolveSource(config: LlmchatConfig, log: FastifyBaseLogger): Promise<string> {
  const source = config.LLMCHAT_MODEL;
  if (!isRemote(source)) {
    try {
      await access(source);
    } catch {
      throw new ModelLoadError(
        `LLMCHAT_MODEL is "${source}", but no file exists there. Set LLMCHAT_MODEL to the path of a .gguf file, or to a Hugging Face URI such as hf:<user>/<repo>:<quant>.`,
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
      `Could not resolve ${source} (${error instanceof Error ? error.message : String(error)}). Models download once into LLMCHAT_MODELS_DIR (${config.LLMCHAT_MODELS_DIR}); offline, download it elsewhere and set LLMCHAT_MODEL to the file's path.`,
      { cause: error },
    );
  }
}

/**
 * Resolves, checks and loads the configured model. The memory estimate comes
 * from the GGUF header before anything is loaded, so a model over the budget
 * is refused without touching RAM.
 */
export async function loadModel(
  config: LlmchatConfig,
  log: FastifyBaseLogger,
): Promise<LoadedModel> {
  const path = await resolveSource(config, log);
  const llama = await getLlama({
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

  let insights: GgufInsights;
  try {
    insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
  } catch (error) {
    throw new ModelLoadError(
      `${basename(path)} is not a readable GGUF model (${error instanceof Error ? error.message : String(error)}). Point LLMCHAT_MODEL at a valid .gguf file.`,
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
  const budgetMb = config.LLMCHAT_MEMORY_BUDGET_MB;
  if (budgetMb !== undefined && estimatedRamBytes > budgetMb * 1024 * 1024) {
    throw new ModelLoadError(
      `${basename(path)} needs about ${Math.ceil(estimatedRamBytes / 1024 / 1024)} MiB of RAM (weights and a ${contextSize}-token context for ${config.LLMCHAT_PARALLEL} sequences), over LLMCHAT_MEMORY_BUDGET_MB=${budgetMb}. Raise the budget, lower LLMCHAT_CONTEXT_SIZE or LLMCHAT_PARALLEL, or use a smaller quantization.`,
    );
  }

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
  const ids = config.LLMCHAT_MODEL_ALIAS?.length
    ? config.LLMCHAT_MODEL_ALIAS
    : [basename(path).replace(/\.gguf$/i, '')];
  return { llama, model, path, ids, contextSize, trainContextSize, estimatedRamBytes };
}
