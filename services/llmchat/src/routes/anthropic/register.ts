import { type FastifyInstance, parseRequest, renderErrorsAs } from 'hrserve';
import type { Generator } from '../../generation/generator.js';
import type { ModelManager } from '../../models/model-manager.js';
import { anthropicStatus, toAnthropicError } from '../../protocols/anthropic/errors.js';
import {
  countTokensRequestSchema,
  messageCreateRequestSchema,
} from '../../protocols/anthropic/request.js';
import { anthropicEncoder, messageId } from '../../protocols/anthropic/response.js';
import { messagesToNative, promptToNative } from '../../protocols/anthropic/to-native.js';
import { ANTHROPIC_SSE } from '../framing.js';
import { respond } from '../respond.js';

export interface AnthropicRoutesOptions {
  generator: Generator;
  models: ModelManager;
}

/**
 * Anthropic's Messages API: POST /v1/messages and /v1/messages/count_tokens, in its error
 * shape and statuses. Keys are checked by the app as for every route: `x-api-key` (what
 * Anthropic's clients send) and `Authorization: Bearer` both work.
 */
export async function anthropicRoutes(app: FastifyInstance, options: AnthropicRoutesOptions) {
  renderErrorsAs(app, (error, request) => toAnthropicError(error, request.id), {
    status: anthropicStatus,
  });
  // Anthropic's SDK reads the request id from `request-id` (hrserve sends `x-request-id`).
  app.addHook('onSend', async (request, reply) => {
    reply.header('request-id', request.id);
  });

  app.post('/v1/messages', async (request, reply) => {
    const body = parseRequest(messageCreateRequestSchema, request.body);
    const native = messagesToNative(body);
    const identity = {
      id: messageId(),
      model: body.model,
      stopSequences: body.stop_sequences ?? [],
      maxTokens: body.max_tokens,
      requestId: request.id,
    };
    return respond(options.generator, request, reply, native, {
      operation: 'chat',
      stream: body.stream === true,
      encoder: anthropicEncoder(identity),
      framing: ANTHROPIC_SSE,
      attributes: { 'gen_ai.response.id': identity.id, num_tools: body.tools?.length ?? 0 },
    });
  });

  // The prompt's tokens as the model reads it (template, system, tools), generating nothing.
  app.post('/v1/messages/count_tokens', async (request) => {
    const body = parseRequest(countTokensRequestSchema, request.body);
    const prompt = promptToNative(body);
    const lease = await options.models.acquire(body.model);
    try {
      return {
        input_tokens: lease.engine.renderChat(prompt.messages, prompt.described).tokens.length,
      };
    } finally {
      lease.release();
    }
  });
}
