import type { FastifyInstance } from 'hrserve';
import type { ModelManager } from '../models/model-manager.js';
import { type ModelEntry, namesOf } from '../models/registry.js';

/**
 * GET /v1/models and /v1/models/{id}, readable by OpenAI's and Anthropic's clients alike:
 * https://platform.openai.com/docs/api-reference/models and
 * https://docs.anthropic.com/en/api/models-list (`type`, `display_name`, `created_at` and the
 * list's `has_more`, `first_id`, `last_id` beside OpenAI's fields; every model on one page).
 */
export function registerModels(
  app: FastifyInstance,
  models: ModelManager,
  startedAt: number,
): void {
  /** The entry under each of its names; its file is read once, not per name. */
  const describe = async (entry: ModelEntry, ids = namesOf(entry)) => {
    const facts = await models.registry.factsOf(entry);
    return ids.map((id) => ({
      id,
      object: 'model' as const,
      created: startedAt,
      owned_by: 'hrserve',
      // Extensions: what a client needs to size its requests, and whether the first request waits for a load.
      context_length: facts?.context_length ?? null,
      size_bytes: facts?.size_bytes ?? null,
      family: facts?.family ?? null,
      quantization: facts?.quantization ?? null,
      loaded: models.isLoaded(entry),
      // Anthropic's ModelInfo.
      type: 'model' as const,
      display_name: id,
      created_at: new Date(startedAt * 1000).toISOString(),
      max_input_tokens: facts?.context_length ?? null,
      max_tokens: null,
      lifecycle: 'active' as const,
      deprecated_at: null,
      retires_at: null,
      capabilities: null,
      line: null,
    }));
  };

  app.get('/v1/models', async () => {
    const entries = await models.registry.list();
    const data = (await Promise.all(entries.map((entry) => describe(entry)))).flat();
    return {
      object: 'list',
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    };
  });

  app.get<{ Params: { id: string } }>('/v1/models/*', async (request) => {
    const id = request.params['*' as 'id'];
    const entry = await models.registry.resolve(id);
    // The same 404 a generation request gets.
    if (!entry) throw await models.notFound(id);
    return (await describe(entry, [id]))[0];
  });
}
