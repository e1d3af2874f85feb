import { envDuration, envPositiveInteger } from 'hrserve';
import { z } from 'zod';

/**
 * The Files and Batch APIs' settings, for a service's config schema (`.extend(batchSettings)`).
 * Parsed once with the rest of the service's config and handed to `BatchApi.register`.
 */
export const batchSettings = {
  FILES_DIR: z
    .preprocess((value) => (value === '' ? undefined : value), z.string().optional())
    .describe(
      'Directory of uploaded and produced files (default $DATA_DIR/files). Instances sharing a DATABASE_URL share files: give them one directory (one host, or a shared mount).',
    ),
  FILES_MAX_BYTES: envPositiveInteger(
    "Largest file upload in bytes; a larger one is refused with 413 (default 209715200, 200 MiB, the Batch API's limit).",
    200 * 1024 * 1024,
  ),
  BATCH_MAX_LINES: envPositiveInteger(
    'Most requests in one batch input file; more is refused at upload with 400 (default 50000, as OpenAI).',
    50_000,
  ),
  BATCH_CONCURRENCY: envPositiveInteger(
    "Batch lines this instance runs at once (default: the engine's parallel sequences, so an idle server gives batches all it has).",
  ),
  BATCH_LEASE: envDuration(
    'How long a claimed batch line stays claimed without renewal (default 30s): when an instance dies, another (on the same Postgres) takes its lines after this. A SQLite store is one process: its restart takes them at once.',
    '30s',
  ),
};

export interface BatchSettings {
  FILES_DIR?: string | undefined;
  FILES_MAX_BYTES: number;
  BATCH_MAX_LINES: number;
  BATCH_CONCURRENCY?: number | undefined;
  BATCH_LEASE: number;
}
