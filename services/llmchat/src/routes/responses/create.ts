import type { StateStore } from '@hrserve/store';
import { errorCatalogue, type FastifyInstance, parseRequest } from 'hrserve';
import { llmchatErrors } from '../../errors.js';
import type { Generator } from '../../generation/generator.js';
import { responseCreateRequestSchema } from '../../protocols/openai-responses/request.js';
import type { BackgroundResponses } from '../../responses/background.js';
import { prepareResponse } from '../../responses/prepare-response.js';
import { RESPONSES_SSE } from '../framing.js';
import { respond } from '../respond.js';

/** The failures after which the batch runner runs a line again (stopped, or busy: 429, 503). */
const RUN_AGAIN = new Set([
  errorCatalogue.preempted.code,
  errorCatalogue.draining.code,
  errorCatalogue.overloaded.code,
  errorCatalogue.rateLimited.code,
  llmchatErrors.clientClosedRequest.code,
  llmchatErrors.modelLoading.code,
  llmchatErrors.modelBusy.code,
]);

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
      onFailed: (error) =>
        // A batch line whose attempt stopped (preempted, its runner stopping) runs again: this
        // attempt is not the line's response, and leaves none behind.
        request.workPriority === 'batch' && RUN_AGAIN.has(error.code)
          ? prepared.discard()
          : prepared.fail(prepared.encoder.failed(error)),
    });
  });
}
