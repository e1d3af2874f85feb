import { z } from 'zod';

const tokenId = z.int().min(0);

/** POST /v1/embeddings — https://platform.openai.com/docs/api-reference/embeddings/create */
export const embeddingsRequestSchema = z.object({
  input: z.union([
    z.string().min(1, 'must not be empty'),
    z.array(z.string().min(1, 'must not be empty')).min(1, 'must not be empty'),
    z.array(tokenId).min(1, 'must not be empty'),
    z.array(z.array(tokenId).min(1, 'must not be empty')).min(1, 'must not be empty'),
  ]),
  model: z.string().min(1).max(256),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.int().positive().optional(),
  user: z.string().max(256).optional(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;
