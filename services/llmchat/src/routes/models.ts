import type { FastifyInstance } from 'hrserve';
import type { LlamaEngine } from '../engine/llama-engine.js';
import { ensureServedModel } from './model-check.js';

/** GET /v1/models and /v1/models/{id} — https://platform.openai.com/docs/api-reference/models */
export function registerModels(
  app: FastifyInstance,
  engines: () => LlamaEngine,
  startedAt: number,
): void {
  const describe = (engine: LlamaEngine, id: string) => ({
    id,
    object: 'model' as const,
    created: startedAt,
    owned_by: 'hrserve',
    // Extensions: what a client needs to size its requests.
    context_length: engine.info.context_size,
    size_bytes: engine.info.size_bytes,
  });

  app.get('/v1/models', async () => {
    const engine = engines();
    return { object: 'list', data: engine.modelIds.map((id) => describe(engine, id)) };
  });

  app.get<{ Params: { id: string } }>('/v1/models/*', async (request) => {
    const engine = engines();
    const id = request.params['*' as 'id'];
    ensureServedModel(engine, id);
    return describe(engine, id);
  });
}
