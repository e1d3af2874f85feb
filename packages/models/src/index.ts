import { access } from 'node:fs/promises';
import { resolveModelFile } from 'node-llama-cpp';
import { trimDownloadMetadata } from './download-metadata.js';
import { isNetworkFailure, type NetworkWaitOptions, retryWhileOffline } from './network-wait.js';

export {
  type CreateLlamaOptions,
  createLlama,
  type GpuSetting,
  GpuUnavailableError,
  type LlamaLogSink,
  llamaLogBridge,
} from './llama.js';
export {
  isNetworkFailure,
  NETWORK_WAIT_AT_START_MS,
  type NetworkRetry,
  type NetworkWaitOptions,
  networkRetryLine,
} from './network-wait.js';

/** A model that cannot be served, with what is wrong and how to fix it. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/** An `hf:` URI or a URL (downloaded on first use), not a local path. */
export function isRemoteSource(source: string): boolean {
  return /^(hf:|huggingface:|https?:\/\/)/i.test(source);
}

export interface DownloadProgress {
  percent: number;
  downloadedBytes: number;
  totalBytes: number;
  /** The first report past a multiple of 10%: worth a log line. */
  tenth: boolean;
}

export interface ResolveOptions {
  /** Where remote models are downloaded once. */
  directory: string;
  /** How the error messages name the setting, e.g. `EMBED_MODEL is "x.gguf"`. */
  subject: string;
  /** The setting to point elsewhere, named in the fix. */
  setting: string;
  /**
   * Download progress, at each whole percent (a start's STATUS line, which must keep
   * changing for systemd to give it more time); `tenth` marks each 10% step (a log line).
   */
  onProgress?(progress: DownloadProgress): void;
  /**
   * At start, where there is nothing better to do: retry a download that fails
   * for want of network (boot before the network is up), backing off. Requests'
   * on-demand loads leave it out and fail at once.
   */
  waitForNetwork?: NetworkWaitOptions;
  /** Another Hugging Face endpoint (a mirror; tests); else HF_ENDPOINT, else huggingface.co. */
  huggingFaceEndpoint?: string;
}

/**
 * A model source as a local file: a path as is (it must exist), an `hf:` URI
 * or URL downloaded once into `directory`. Failures are `ModelLoadError`s
 * saying what is wrong and what to change.
 */
export async function resolveModelSource(source: string, options: ResolveOptions): Promise<string> {
  if (!isRemoteSource(source)) {
    try {
      await access(source);
    } catch {
      throw new ModelLoadError(
        `${options.subject}, but no file exists there. Point it at a .gguf file, or at a Hugging Face URI such as hf:<user>/<repo>:<quant>.`,
      );
    }
    return source;
  }
  let lastPercent = -1;
  let lastTenth = -1;
  let downloadSize: number | undefined;
  const startedAt = Date.now();
  try {
    const path = await retryWhileOffline(
      () =>
        resolveModelFile(source, {
          directory: options.directory,
          cli: false,
          ...(options.huggingFaceEndpoint
            ? { endpoints: { huggingFace: options.huggingFaceEndpoint } }
            : {}),
          onProgress: ({ totalSize, downloadedSize }) => {
            downloadSize = totalSize;
            const percent = totalSize > 0 ? Math.floor((downloadedSize / totalSize) * 100) : 0;
            if (percent <= lastPercent) return;
            lastPercent = percent;
            const tenth = Math.floor(percent / 10) > lastTenth;
            if (tenth) lastTenth = Math.floor(percent / 10);
            options.onProgress?.({
              percent,
              downloadedBytes: downloadedSize,
              totalBytes: totalSize,
              tenth,
            });
          },
        }),
      options.waitForNetwork ?? { waitMs: 0 },
    );
    if (downloadSize) await trimDownloadMetadata(path, downloadSize);
    return path;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (isNetworkFailure(error)) {
      const waited = Math.round((Date.now() - startedAt) / 1000);
      throw new ModelLoadError(
        `Could not download ${source}: the network is unreachable (${reason})${waited > 0 ? `, still after ${waited} s of retries` : ''}. It downloads once into ${options.directory}; check the network (or HF_ENDPOINT), or download it elsewhere and point ${options.setting} at the file's path.`,
        { cause: error },
      );
    }
    throw new ModelLoadError(
      `Could not resolve ${source} (${reason}). Models download once into ${options.directory}; offline, download it elsewhere and point ${options.setting} at the file's path.`,
      { cause: error },
    );
  }
}
