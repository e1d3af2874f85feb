import type { StateStore } from '@hrserve/store';
import { type FastifyInstance, parseRequest } from 'hrserve';
import type { Generator } from '../../generation/generator.js';
import { responseCreateRequestSchema } from '../../protocols/openai-responses/request.js';
import type { BackgroundResponses } from '../../responses/background.js';
import { prepareResponse } from '../../responses/prepare-response.js';
import { RESPONSES_SSE } from '../framing.js';
import { respond } from '../respond.js';

/** POST /v1/responses — https://platform.openai.com/docs/api-reference/responses/create */
export function registerCreateResponse(
  app: FastifyInstance,
  generator: Generator,
  state: StateStore,
  background: BackgroundResponses,
): void {
  app.post('/v1/responses', async (request, reply) => {
    const body = parseRequest(responseCreateRequestSchema, request.body);
    const prepared = await prepareResponse(body, state);
    const attributes = {
      'gen_ai.response.id': prepared.id,
      num_tools: body.tools?.length ?? 0,
      stored: prepared.stored,
    };
    if (body.background) return background.start(prepared, request, reply, attributes);
    // Stored first, in progress: GET finds it while it streams.
    await prepared.begin('in_progress');
    return respond(generator, request, reply, prepared.native, {
      operation: 'chat',
      stream: body.stream === true,
      encoder: prepared.encoder,
      framing: RESPONSES_SSE,
      attributes,
      onFinished: (results) => prepared.finish(prepared.encoder.final(results)),
      onFailed: (error) => prepared.fail(prepared.encoder.failed(error)),
    });
  });
}
