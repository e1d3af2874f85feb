import { ApiError, type FastifyInstance } from 'hrserve';
import type { Embedder } from '../engine/embedder.js';
import { embedErrors } from '../errors.js';

/** GET /v1/models and /v1/models/{id}, with the vector size as an extension. */
export function registerModels(
  app: FastifyInstance,
  embedder: () => Embedder,
  startedAt: number,
): void {
  const describe = (engine: Embedder, id: string) => ({
    id,
    object: 'model' as const,
    created: startedAt,
    owned_by: 'hrserve',
    dimensions: engine.dimensions,
    max_input_tokens: engine.maxInputTokens,
  });
  app.get('/v1/models', async () => {
    const engine = embedder();
    return { object: 'list', data: engine.modelIds.map((id) => describe(engine, id)) };
  });
  app.get<{ Params: { id: string } }>('/v1/models/*', async (request) => {
    const engine = embedder();
    const id = request.params['*' as 'id'];
    if (!engine.modelIds.includes(id)) {
      throw new ApiError(
        embedErrors.modelNotFound,
        `The model '${id.slice(0, 200)}' does not exist.`,
        {
          param: 'model',
        },
      );
    }
    return describe(engine, id);
  });
}
