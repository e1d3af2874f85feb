import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { batchSettings } from '@hrserve/batches';
import { storeSettings } from '@hrserve/store';
import { baseConfigSchema, envDuration, envList, envPositiveInteger } from 'hrserve';
import { z } from 'zod';
import type { EngineOptions } from './engine/options.js';
import { parseKeepAlive } from './models/keep-alive.js';

/** llmchat's settings: the shared ones plus the model and the engine's, each described. */
export const llmchatConfigSchema = baseConfigSchema({ name: 'llmchat', port: 2020 }).extend({
  LLMCHAT_MODEL: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The default model, loaded at start: a GGUF file path, or a Hugging Face URI like hf:<user>/<repo>:<quant> (downloaded once into LLMCHAT_MODELS_DIR).',
    ),
  LLMCHAT_MODELS: envList(
    z
      .string()
      .transform((entry) => {
        const at = entry.indexOf('=');
        return at < 0
          ? { name: entry, source: '' }
          : { name: entry.slice(0, at).trim(), source: entry.slice(at + 1).trim() };
      })
      .pipe(
        z.object({
          name: z
            .string()
            .regex(
              /^[\w.:\-/]{1,128}$/,
              'expected name=source, the name of letters, digits and ._:-/',
            ),
          source: z.string().min(1, 'expected name=source with a path or hf: URI after ='),
        }),
      ),
  )
    .optional()
    .describe(
      'More models, served on demand: comma-separated name=source (a GGUF path or hf: URI).',
    ),
  LLMCHAT_MODEL_ALIAS: envList(
    z.string().regex(/^[\w.:\-/]{1,128}$/, 'expected names of letters, digits and ._:-/'),
  )
    .optional()
    .describe(
      'Comma-separated model ids clients use (e.g. local-model); default: the file name without .gguf.',
    ),
  LLMCHAT_MODELS_DIR: z
    .string()
    .min(1)
    .default(join(homedir(), '.cache', 'hrserve', 'models'))
    .describe(
      'Every .gguf file here is served under its base name, on demand; hf: models are downloaded here (default ~/.cache/hrserve/models).',
    ),
  LLMCHAT_MAX_LOADED_MODELS: envPositiveInteger(
    'Models loaded at once; loading another unloads the least recently used idle one (default 3).',
    3,
  ),
  LLMCHAT_KEEP_ALIVE: z
    .string()
    .default('5m')
    .refine(
      (value) => parseKeepAlive(value) !== undefined,
      'expected a duration like 5m, 30s or 1h, 0, or -1',
    )
    .describe(
      "How long a model stays loaded after its last request, as Ollama's keep_alive: 5m, 30s, 0 (unload at once), -1 (forever). Requests may override it.",
    ),
  LLMCHAT_LOAD_TIMEOUT_MS: envPositiveInteger(
    'Longest a request waits for its model to load (or for room to load it) before 503 (default 300000).',
    300_000,
  ),
  LLMCHAT_CONTEXT_SIZE: envPositiveInteger(
    "Tokens of context per sequence (default: the model's training context, at most 4096).",
  ),
  LLMCHAT_PARALLEL: envPositiveInteger(
    'Requests generated at once, each in its own sequence of one shared context (default 4).',
    4,
  ),
  LLMCHAT_THREADS: envPositiveInteger(
    'CPU threads the engine may use at once, shared by every loaded model (default: every core). Each batch uses one thread or all of them, whichever is measured faster for its size (LLMCHAT_THREAD_POLICY).',
    availableParallelism(),
  ),
  LLMCHAT_THREAD_POLICY: z
    .enum(['auto', 'fixed'])
    .default('auto')
    .describe(
      'auto (default): each batch uses one thread or all LLMCHAT_THREADS, whichever llmchat measures faster on this host for batches of its size, starting from a guess by its work (tokens × model size; README, Threads); fixed: every batch uses LLMCHAT_THREADS.',
    ),
  LLMCHAT_BATCH_SIZE: envPositiveInteger('Tokens evaluated per batch (default 512).', 512),
  LLMCHAT_GPU: z
    .enum(['auto', 'false', 'cuda', 'vulkan', 'metal'])
    .default('auto')
    .describe(
      'GPU backend: auto (detect CUDA, Vulkan or Metal, else CPU), false (CPU only), cuda, vulkan or metal.',
    ),
  LLMCHAT_FLASH_ATTENTION: z
    .enum(['auto', 'on', 'off'])
    .default('auto')
    .describe(
      'Flash attention: auto (on CPU: on for attention heads of 64 and up, off for tiny ones, by measurement; on a GPU node-llama-cpp decides), on or off.',
    ),
  LLMCHAT_GPU_LAYERS: z
    .union([z.enum(['auto', 'max']), z.coerce.number().int().min(0)])
    .default('auto')
    .describe('Model layers to offload to the GPU: auto, max or a number (default auto).'),
  LLMCHAT_QUEUE_SIZE: envPositiveInteger(
    'Requests that may wait for a free sequence; more get 429 with Retry-After (default 32).',
    32,
  ),
  LLMCHAT_QUEUE_TIMEOUT_MS: envPositiveInteger(
    'Milliseconds a request may wait for a free sequence before it gets 503 (default 60000).',
    60_000,
  ),
  LLMCHAT_GENERATION_TIMEOUT_MS: envPositiveInteger(
    'Milliseconds one generation may run before it is stopped (default 600000).',
    600_000,
  ),
  LLMCHAT_CONTEXT_OVERFLOW: z
    .enum(['error', 'truncate'])
    .default('error')
    .describe(
      'A prompt longer than the context: error (400 context_length_exceeded, default) or truncate (drop the oldest turns, keep the system prompt).',
    ),
  ...storeSettings('llmchat'),
  ...batchSettings,
  RESPONSES_TTL: envDuration(
    'How long a stored response is kept after its creation, e.g. 30d, 12h, or 0 for no limit (default 30d, as OpenAI keeps them). Conversations are kept until deleted.',
    '30d',
  ),
  RESPONSES_MAX: envPositiveInteger(
    'Most stored responses kept; beyond it the oldest finished ones are deleted (default 100000).',
    100_000,
  ),
  LLMCHAT_MEMORY_BUDGET_MB: envPositiveInteger(
    'RAM (MiB) all loaded models may use together, by their estimate (weights + context): least recently used idle models are unloaded to make room, and a model that can never fit is refused.',
  ),
});

export type LlmchatConfig = z.infer<typeof llmchatConfigSchema>;

/** Seconds a client turned away by a full queue is told to wait. */
const QUEUE_RETRY_AFTER_SECONDS = 1;

/** The engine's part of the configuration, as typed options (parsed once, handed down). */
export function engineOptionsOf(config: LlmchatConfig): EngineOptions {
  return {
    parallel: config.LLMCHAT_PARALLEL,
    threads: { budget: config.LLMCHAT_THREADS, policy: config.LLMCHAT_THREAD_POLICY },
    batchSize: config.LLMCHAT_BATCH_SIZE,
    flashAttention: config.LLMCHAT_FLASH_ATTENTION,
    gpuLayers: config.LLMCHAT_GPU_LAYERS,
    queue: {
      maxWaiting: config.LLMCHAT_QUEUE_SIZE,
      maxWaitMs: config.LLMCHAT_QUEUE_TIMEOUT_MS,
      retryAfterSeconds: QUEUE_RETRY_AFTER_SECONDS,
    },
  };
}
