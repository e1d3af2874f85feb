import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { baseConfigSchema, envPositiveInteger } from 'hrserve';
import { z } from 'zod';

/** llmchat's settings: the shared ones plus the model and the engine's, each described. */
export const llmchatConfigSchema = baseConfigSchema({ name: 'llmchat', port: 2020 }).extend({
  LLMCHAT_MODEL: z
    .string({ error: 'required' })
    .min(1, { error: 'required' })
    .describe(
      'The GGUF model to serve: a file path, or a Hugging Face URI like hf:<user>/<repo>:<quant> (downloaded once into LLMCHAT_MODELS_DIR).',
    ),
  LLMCHAT_MODEL_ALIAS: z
    .preprocess(
      (value) =>
        typeof value === 'string'
          ? value
              .split(',')
              .map((alias) => alias.trim())
              .filter(Boolean)
          : value,
      z
        .array(
          z.string().regex(/^[\w.:\-/]{1,128}$/, 'expected names of letters, digits and ._:-/'),
        )
        .optional(),
    )
    .describe(
      'Comma-separated model ids clients use (e.g. local-model); default: the file name without .gguf.',
    ),
  LLMCHAT_MODELS_DIR: z
    .string()
    .min(1)
    .default(join(homedir(), '.cache', 'hrserve', 'models'))
    .describe('Where hf: models are downloaded and cached (default ~/.cache/hrserve/models).'),
  LLMCHAT_CONTEXT_SIZE: envPositiveInteger(
    "Tokens of context per sequence (default: the model's training context, at most 4096).",
  ),
  LLMCHAT_PARALLEL: envPositiveInteger(
    'Requests generated at once, each in its own sequence of one shared context (default 4).',
    4,
  ),
  LLMCHAT_THREADS: envPositiveInteger(
    "CPU threads for a batch of one token, i.e. one sequence generating (llama.cpp's n_threads; default 1: measured fastest with node-llama-cpp 3.22's prebuilt CPU build; see README).",
    1,
  ),
  LLMCHAT_BATCH_THREADS: envPositiveInteger(
    "CPU threads for a batch of several tokens: prompts and several sequences generating together (llama.cpp's n_threads_batch; default: every core).",
    availableParallelism(),
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
  LLMCHAT_MEMORY_BUDGET_MB: envPositiveInteger(
    'Refuse to load a model whose estimated RAM (weights + context) exceeds this many MiB.',
  ),
});

export type LlmchatConfig = z.infer<typeof llmchatConfigSchema>;
