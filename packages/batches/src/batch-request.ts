import { z } from 'zod';

/** OpenAI's metadata: up to 16 pairs, keys up to 64 characters, values up to 512. */
const metadataSchema = z
  .record(
    z.string().max(64, 'metadata keys are at most 64 characters'),
    z.string().max(512, 'metadata values are at most 512 characters'),
  )
  .refine((value) => Object.keys(value).length <= 16, 'metadata has at most 16 pairs')
  .nullable();

/** POST /v1/batches (openai's `BatchCreateParams`). */
export const batchCreateSchema = z.strictObject({
  input_file_id: z.string().min(1),
  endpoint: z.string().min(1),
  completion_window: z.literal('24h', {
    error: 'completion_window must be "24h" (the only window the Batch API has)',
  }),
  metadata: metadataSchema.optional(),
  output_expires_after: z
    .unknown()
    .refine(
      () => false,
      'output files do not expire on this server: leave output_expires_after out and delete them with DELETE /v1/files/{id}',
    )
    .optional(),
});

export type BatchCreateRequest = z.infer<typeof batchCreateSchema>;

/** How long a batch may take before it expires: its `completion_window`. */
export const COMPLETION_WINDOW_MS = 24 * 60 * 60 * 1000;
