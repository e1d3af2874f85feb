import type { StateStore } from '@hrserve/store';
import {
  ApiError,
  errorCatalogue,
  type FastifyInstance,
  listBody,
  pageRequestOf,
  parseRequest,
} from 'hrserve';
import { z } from 'zod';
import type { BackgroundResponses } from '../../responses/background.js';
import { endedBody } from '../../responses/ended-body.js';
import { NotCancellableError, ResponseNotFoundError } from '../../responses/response-errors.js';

type ById = { Params: { id: string } };

const retrieveQuerySchema = z
  .object({
    stream: z.enum(['true', 'false']).optional(),
    starting_after: z.coerce.number().int().min(-1).optional(),
    include: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .loose();

/**
 * GET and DELETE /v1/responses/{id}, GET …/input_items, POST …/cancel:
 * https://platform.openai.com/docs/api-reference/responses/get
 */
export function registerStoredResponses(
  app: FastifyInstance,
  state: StateStore,
  background: BackgroundResponses,
): void {
  const stored = async (id: string) => {
    const response = await state.current().responses.get(id);
    if (!response) throw new ResponseNotFoundError(id);
    return response;
  };

  app.get<ById>('/v1/responses/:id', async (request, reply) => {
    const query = parseRequest(retrieveQuerySchema, request.query, 'query');
    const response = await stored(request.params.id);
    if (query.stream !== 'true') return response.body;
    // A stream resumed: from this process's memory of a background response's events.
    const resumed = background.stream(response.id, query.starting_after ?? -1, reply);
    if (resumed) return resumed;
    throw new ApiError(
      errorCatalogue.invalidRequest,
      `The stream of response '${response.id}' cannot be resumed here: only a background response's events are kept, in the instance that ran it, for 10 minutes after it ends. GET it without stream=true for its final state.`,
      { param: 'stream' },
    );
  });

  app.delete<ById>('/v1/responses/:id', async (request) => {
    const { id } = request.params;
    // Stopped first, wherever it runs (nothing happens for one that is not running).
    await background.cancel(id);
    if (!(await state.current().responses.delete(id))) throw new ResponseNotFoundError(id);
    return { id, object: 'response', deleted: true };
  });

  app.get<ById>('/v1/responses/:id/input_items', async (request) => {
    const page = await state
      .current()
      .responses.listInputItems(request.params.id, pageRequestOf(request.query));
    if (!page) throw new ResponseNotFoundError(request.params.id);
    return listBody(page);
  });

  app.post<ById>('/v1/responses/:id/cancel', async (request) => {
    const response = await stored(request.params.id);
    if (response.body.background !== true) {
      throw new NotCancellableError(response.id, 'only background responses can be cancelled');
    }
    if (response.status === 'cancelled') return response.body;
    if (response.status !== 'queued' && response.status !== 'in_progress') {
      throw new NotCancellableError(response.id, `it has already ended (${response.status})`);
    }
    // Running here: stopped and stored as cancelled. Elsewhere (another instance, or one
    // that crashed): marked cancelled, which its instance's completion will not overwrite.
    if (!(await background.cancel(response.id))) {
      await state.current().responses.markCancelled(response.id, {
        body: endedBody(response.body, 'cancelled', Date.now()),
        at: Date.now(),
      });
    }
    return (await stored(response.id)).body;
  });
}
