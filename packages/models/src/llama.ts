import { getLlama, getLlamaGpuTypes, type Llama, LlamaLogLevel } from 'node-llama-cpp';

/** Where llama.cpp's own messages go: a pino logger fits. */
export interface LlamaLogSink {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A service's GPU setting (`<SERVICE>_GPU`): `false` is the CPU. */
export type GpuSetting = 'auto' | 'false' | 'cuda' | 'vulkan' | 'metal';

/**
 * llama.cpp's messages as log entries `{"llama": "<text>", "msg": "llama.cpp"}`: errors
 * and fatal errors as errors, the rest (node-llama-cpp passes warnings and above) as
 * warnings; blank lines dropped.
 */
export function llamaLogBridge(log: LlamaLogSink): (level: LlamaLogLevel, message: string) => void {
  return (level, message) => {
    const text = message.trim();
    if (!text) return;
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
      log.error({ llama: text }, 'llama.cpp');
    else log.warn({ llama: text }, 'llama.cpp');
  };
}

export interface CreateLlamaOptions {
  gpu: GpuSetting;
  /** The setting `gpu` came from, named in the error (e.g. LLMCHAT_GPU). */
  gpuSetting?: string;
  /** The most CPU threads any context of this instance may use. */
  maxThreads: number;
  log: LlamaLogSink;
}

/**
 * The process's node-llama-cpp instance, as every service creates it: the prebuilt
 * binary (or an earlier source build), never compiled or downloaded at run time, with
 * llama.cpp's messages in the service's log.
 */
export async function createLlama(options: CreateLlamaOptions): Promise<Llama> {
  let llama: Llama;
  try {
    llama = await getLlama({
      gpu: options.gpu === 'false' ? false : options.gpu,
      build: 'never',
      skipDownload: true,
      progressLogs: false,
      maxThreads: options.maxThreads,
      logLevel: LlamaLogLevel.warn,
      logger: llamaLogBridge(options.log),
    });
  } catch (error) {
    if (options.gpu === 'auto' || options.gpu === 'false') throw error;
    throw await gpuUnavailable(options.gpu, options.gpuSetting ?? 'the GPU setting', error);
  }
  // node-llama-cpp falls back to the CPU for a backend the platform lacks (metal on Linux):
  // a backend asked for by name is that backend or an error, never a silent CPU.
  if (options.gpu !== 'auto' && options.gpu !== 'false' && llama.gpu !== options.gpu) {
    await llama.dispose();
    throw await gpuUnavailable(
      options.gpu,
      options.gpuSetting ?? 'the GPU setting',
      new Error(`node-llama-cpp gave ${llama.gpu || 'the CPU'} instead`),
    );
  }
  return llama;
}

/** A GPU backend asked for by name is not usable on this host: what, what there is, how to fix it. */
export class GpuUnavailableError extends Error {
  override readonly name = 'GpuUnavailableError';
}

const BACKEND_NEEDS: Record<string, string> = {
  cuda: 'an NVIDIA GPU with its driver and the CUDA runtime',
  vulkan: 'a GPU with a Vulkan driver (e.g. mesa-vulkan-drivers, or the vendor driver)',
  metal: 'macOS on Apple silicon',
};

async function gpuUnavailable(
  backend: string,
  setting: string,
  cause: unknown,
): Promise<GpuUnavailableError> {
  let usable: string;
  try {
    const types = await getLlamaGpuTypes('supported');
    usable = types.map((type) => (type === false ? 'CPU' : String(type))).join(', ') || 'none';
  } catch {
    usable = 'unknown';
  }
  return new GpuUnavailableError(
    `${setting}=${backend} asked for ${backend.toUpperCase()}, but node-llama-cpp has no usable ${backend} binary on this host (it can use: ${usable}). Set ${setting}=auto (whatever this host has) or false (CPU); or install ${BACKEND_NEEDS[backend] ?? 'that backend'}; or build the addon for it from source (./pnpm --filter llmchat build:addon --gpu ${backend}).`,
    { cause },
  );
}
