import { type FastifyInstance, parseRequest } from 'hrserve';
import type { Generator } from '../generation/generator.js';
import { completionRequestSchema } from '../protocols/openai/chat-request.js';
import { completionId } from '../protocols/openai/chat-response.js';
import { textCompletionEncoder } from '../protocols/openai/completion-response.js';
import { completionToNative } from '../protocols/openai/to-native.js';
import { SSE } from './framing.js';
import { respond } from './respond.js';

/** POST /v1/completions, the legacy text completion — https://platform.openai.com/docs/api-reference/completions */
export function registerCompletions(app: FastifyInstance, generator: Generator): void {
  app.post('/v1/completions', async (request, reply) => {
    const body = parseRequest(completionRequestSchema, request.body);
    const native = completionToNative(body);
    const id = completionId('cmpl');
    const identity = { id, created: Math.floor(Date.now() / 1000), model: body.model };
    return respond(generator, request, reply, native, {
      operation: 'text_completion',
      stream: body.stream === true,
      encoder: textCompletionEncoder(identity, {
        includeUsage: body.stream_options?.include_usage === true,
        ...(body.logprobs !== undefined && body.logprobs !== null
          ? { logprobs: body.logprobs }
          : {}),
      }),
      framing: SSE,
      attributes: { 'gen_ai.response.id': id },
    });
  });
}
