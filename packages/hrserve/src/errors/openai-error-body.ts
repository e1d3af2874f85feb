import { z } from 'zod';
import type { ApiError } from './catalogue.js';

/**
 * The OpenAI error body, described once.
 * https://platform.openai.com/docs/guides/error-codes — `{"error":{message,type,param,code}}`.
 */
export const openAIErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

export type OpenAIErrorBody = z.infer<typeof openAIErrorBodySchema>;

/** JSON schema of the same body, for fastify response schemas. */
export const openAIErrorBodyJsonSchema = z.toJSONSchema(openAIErrorBodySchema);

export function toOpenAIErrorBody(error: ApiError): OpenAIErrorBody {
  return {
    error: {
      message: error.message,
      type: error.spec.type,
      param: error.param,
      code: error.spec.code,
    },
  };
}
