import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp';

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
  /** The most CPU threads any context of this instance may use. */
  maxThreads: number;
  log: LlamaLogSink;
}

/**
 * The process's node-llama-cpp instance, as every service creates it: the prebuilt
 * binary (or an earlier source build), never compiled or downloaded at run time, with
 * llama.cpp's messages in the service's log.
 */
export function createLlama(options: CreateLlamaOptions): Promise<Llama> {
  return getLlama({
    gpu: options.gpu === 'false' ? false : options.gpu,
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    maxThreads: options.maxThreads,
    logLevel: LlamaLogLevel.warn,
    logger: llamaLogBridge(options.log),
  });
}
