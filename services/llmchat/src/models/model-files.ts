import { basename } from 'node:path';
import {
  ModelLoadError,
  NETWORK_WAIT_AT_START_MS,
  type NetworkRetry,
  networkRetryLine,
  resolveModelSource,
} from '@hrserve/models';
import type { FastifyBaseLogger } from 'hrserve';
import { GgufInsights, type Llama, readGgufFileInfo } from 'node-llama-cpp';
import type { LlmchatConfig } from '../config.js';
import type { ModelFile } from '../engine/options.js';
import type { ModelEntry } from './registry.js';

/** Says what a load is doing now, for `/health`'s reason and systemd's STATUS= line. */
export type LoadStatus = (status: string) => void;

const MB = 1024 * 1024;

/** The entry's file: a local path as is, an hf: URI downloaded once into the models directory. */
function resolveSource(
  entry: ModelEntry,
  config: LlmchatConfig,
  log: FastifyBaseLogger,
  status: LoadStatus,
) {
  return resolveModelSource(entry.source, {
    // The default model loads at start, maybe at boot before the network is up: wait for it.
    ...(entry.origin === 'LLMCHAT_MODEL'
      ? {
          waitForNetwork: {
            waitMs: NETWORK_WAIT_AT_START_MS,
            onRetry: (retry: NetworkRetry) => {
              log.warn(networkRetryLine(entry.source, retry));
              status(
                `waiting for the network to download ${entry.source} (attempt ${retry.attempt})`,
              );
            },
          },
        }
      : {}),
    directory: config.LLMCHAT_MODELS_DIR,
    subject: `${entry.origin} names "${entry.source}" for model ${entry.name}`,
    setting: entry.origin,
    onProgress: ({ percent, downloadedBytes, totalBytes, tenth }) => {
      if (tenth)
        log.info(
          {
            model: entry.source,
            percent,
            downloaded_bytes: downloadedBytes,
            total_bytes: totalBytes,
          },
          'downloading model',
        );
      status(`downloading ${entry.source}: ${percent}% of ${Math.ceil(totalBytes / MB)} MB`);
    },
  });
}

/** A model resolved to a file and sized from its GGUF header, not loaded yet. */
export interface InspectedModel extends ModelFile {
  entry: ModelEntry;
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
  status: LoadStatus = () => {},
): Promise<InspectedModel> {
  const path = await resolveSource(entry, config, log, status);
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
  return {
    entry,
    path,
    ids: [entry.name, ...entry.aliases],
    contextSize,
    trainContextSize,
    estimatedRamBytes,
  };
}

/** Why a model over the memory budget cannot be loaded, and what to change. */
export function overBudgetMessage(
  inspected: InspectedModel,
  config: LlmchatConfig,
  raise = `LLMCHAT_MEMORY_BUDGET_MB=${config.LLMCHAT_MEMORY_BUDGET_MB}: raise the budget`,
): string {
  return `${basename(inspected.path)} needs about ${Math.ceil(inspected.estimatedRamBytes / 1024 / 1024)} MiB of RAM (weights and a ${inspected.contextSize}-token context for ${config.LLMCHAT_PARALLEL} sequences), over ${raise}, lower LLMCHAT_CONTEXT_SIZE or LLMCHAT_PARALLEL, or use a smaller quantization.`;
}
