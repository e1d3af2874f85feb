import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { batchSettings } from '@hrserve/batches';
import { storeSettings } from '@hrserve/store';
import { baseConfigSchema, envList, envPositiveInteger } from 'hrserve';
import { z } from 'zod';

/** embed's settings: the shared ones plus the model's and the engine's, each described. */
export const embedConfigSchema = baseConfigSchema({ name: 'embed', port: 2021 }).extend({
  EMBED_MODEL: z
    .string({ error: 'required' })
    .min(1, { error: 'required' })
    .describe(
      'The GGUF model: a file path, or a Hugging Face URI like hf:<user>/<repo>:<quant> (downloaded once into EMBED_MODELS_DIR).',
    ),
  EMBED_MODEL_ALIAS: envList(
    z.string().regex(/^[\w.:\-/]{1,128}$/, 'expected names of letters, digits and ._:-/'),
  )
    .optional()
    .describe('Comma-separated model ids clients use; default: the file name without .gguf.'),
  EMBED_MODELS_DIR: z
    .string()
    .min(1)
    .default(join(homedir(), '.cache', 'hrserve', 'models'))
    .describe('Where hf: models are downloaded and cached (default ~/.cache/hrserve/models).'),
  EMBED_CONTEXT_SIZE: envPositiveInteger(
    "Longest input in tokens (default: the model's training context, at most 8192).",
  ),
  EMBED_CONTEXTS: envPositiveInteger(
    'Embedding contexts evaluating inputs side by side (default: 1 per core, at most 4).',
    Math.min(4, availableParallelism()),
  ),
  EMBED_THREADS: envPositiveInteger('CPU threads per context (default 1).', 1),
  EMBED_MAX_INPUTS: envPositiveInteger(
    'Most inputs in one request (default 2048, as OpenAI).',
    2048,
  ),
  EMBED_MAX_REQUEST_TOKENS: envPositiveInteger(
    "Most tokens of all inputs in one request together (default 300000, OpenAI's limit); more gets 413.",
    300_000,
  ),
  EMBED_QUEUE_SIZE: envPositiveInteger('Requests that may wait for the engine (default 64).', 64),
  EMBED_CONCURRENCY: envPositiveInteger(
    'Requests embedding at once; their inputs share the contexts (default 4).',
    4,
  ),
  EMBED_QUEUE_TIMEOUT_MS: envPositiveInteger(
    'Longest wait in the queue, then 503 (default 30000).',
    30_000,
  ),
  EMBED_GPU: z
    .enum(['auto', 'false', 'cuda', 'vulkan', 'metal'])
    .default('auto')
    .describe('GPU backend: auto (detect, else CPU), false (CPU only), cuda, vulkan or metal.'),
  ...storeSettings('embed'),
  ...batchSettings,
});

export type EmbedConfig = z.infer<typeof embedConfigSchema>;
