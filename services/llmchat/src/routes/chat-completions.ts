import { type FastifyInstance, parseRequest } from 'hrserve';
import type { Generator } from '../generation/generator.js';
import { chatCompletionRequestSchema } from '../protocols/openai/chat-request.js';
import { chatCompletionEncoder, completionId } from '../protocols/openai/chat-response.js';
import { chatCompletionToNative } from '../protocols/openai/to-native.js';
import { plainTextEncoder, wantsPlainText } from '../protocols/plain-text/encoder.js';
import { PLAIN_TEXT, SSE } from './framing.js';
import { respond } from './respond.js';

/** POST /v1/chat/completions — https://platform.openai.com/docs/api-reference/chat/create */
export function registerChatCompletions(app: FastifyInstance, generator: Generator): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const body = parseRequest(chatCompletionRequestSchema, request.body);
    const native = chatCompletionToNative(body);
    const id = completionId('chatcmpl');
    const attributes = { 'gen_ai.response.id': id, num_tools: body.tools?.length ?? 0 };
    if (wantsPlainText(request.headers.accept)) {
      // `curl -N -H 'Accept: text/plain'`: the answer as plain text, streamed; errors before
      // the first byte stay JSON with their status.
      return respond(generator, request, reply, native, {
        operation: 'chat',
        stream: true,
        encoder: plainTextEncoder(request.id),
        framing: PLAIN_TEXT,
        attributes: { ...attributes, plain_text: true },
      });
    }
    const identity = { id, created: Math.floor(Date.now() / 1000), model: body.model };
    return respond(generator, request, reply, native, {
      operation: 'chat',
      stream: body.stream === true,
      encoder: chatCompletionEncoder(identity, {
        includeUsage: body.stream_options?.include_usage === true,
      }),
      framing: SSE,
      attributes,
    });
  });
}
