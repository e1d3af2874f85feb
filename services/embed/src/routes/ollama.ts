import {
  ApiError,
  type FastifyInstance,
  parseRequest,
  readAnyBodyAsJson,
  renderErrorsAs,
} from 'hrserve';
import { z } from 'zod';
import { embedErrors } from '../errors.js';
import {
  clientGone,
  type EmbeddingsDeps,
  embedderFor,
  embedInputs,
  refuseTooManyInputs,
  toTokenInputs,
} from './embeddings.js';

const NS_PER_MS = 1_000_000;

/** Ollama accepts these and so do we; embed's model stays loaded, so keep_alive changes nothing. */
const accepted = {
  options: z.record(z.string(), z.unknown()).optional(),
  keep_alive: z.union([z.string(), z.number()]).optional(),
};

/** POST /api/embed — https://github.com/ollama/ollama/blob/main/docs/api.md#generate-embeddings */
const embedSchema = z.object({
  model: z.string().min(1).max(256),
  input: z.union([
    z.string().min(1, 'must not be empty'),
    z.array(z.string().min(1, 'must not be empty')).min(1, 'must not be empty'),
  ]),
  /** Inputs over the context keep their start (true, Ollama's default) or are refused. */
  truncate: z.boolean().default(true),
  dimensions: z.int().positive().optional(),
  ...accepted,
});

/** POST /api/embeddings, Ollama's older form: one prompt, one `embedding`. */
const embeddingsSchema = z.object({
  model: z.string().min(1).max(256),
  prompt: z.string().min(1, 'must not be empty'),
  ...accepted,
});

/**
 * Ollama's embedding routes over the same embedder and queue, so Ollama
 * clients (`ollama.embed()`) can point at embed's port. Encapsulated, with
 * Ollama's error shape `{"error":"..."}`, 404s under /api included.
 */
export async function ollamaEmbeddingRoutes(
  app: FastifyInstance,
  deps: EmbeddingsDeps,
): Promise<void> {
  renderErrorsAs(app, (error) => ({ error: error.message }), { notFoundUnder: '/api' });
  // As Ollama: every body is JSON whatever its content type (curl -d sends a form type).
  readAnyBodyAsJson(app);
  /** Ollama's `name:latest` names `name`. */
  const modelOf = (name: string) => embedderFor(deps, name.replace(/:latest$/, ''));

  app.post('/api/embed', async (request, reply) => {
    const body = parseRequest(embedSchema, request.body);
    const embedder = modelOf(body.model);
    if (body.dimensions !== undefined && body.dimensions !== embedder.dimensions) {
      throw new ApiError(
        embedErrors.unsupportedParameter,
        `This model's vectors have ${embedder.dimensions} dimensions and it was not trained to be shortened; omit 'dimensions' or send ${embedder.dimensions}.`,
        { param: 'dimensions' },
      );
    }
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    refuseTooManyInputs(deps, texts.length, 'input');
    const inputs = toTokenInputs(embedder, texts, { truncate: body.truncate });
    const { vectors, promptTokens, durationMs } = await embedInputs(deps, embedder, inputs, {
      model: body.model,
      encodingFormat: 'float',
      clientJobId: request.clientJobId,
      api: 'ollama',
      signal: clientGone(reply),
    });
    return {
      model: body.model,
      embeddings: vectors,
      total_duration: Math.round(durationMs * NS_PER_MS),
      load_duration: 0,
      prompt_eval_count: promptTokens,
    };
  });

  app.post('/api/embeddings', async (request, reply) => {
    const body = parseRequest(embeddingsSchema, request.body);
    const embedder = modelOf(body.model);
    const inputs = toTokenInputs(embedder, [body.prompt], { truncate: true });
    const { vectors } = await embedInputs(deps, embedder, inputs, {
      model: body.model,
      encodingFormat: 'float',
      clientJobId: request.clientJobId,
      api: 'ollama',
      signal: clientGone(reply),
    });
    return { embedding: vectors[0] ?? [] };
  });
}
