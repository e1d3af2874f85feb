import { type FastifyInstance, parseRequest, readAnyBodyAsJson, renderErrorsAs } from 'hrserve';
import type { Generator } from '../../generation/generator.js';
import { expiresAt } from '../../models/keep-alive.js';
import type { ModelManager } from '../../models/model-manager.js';
import { type ModelEntry, namesOf } from '../../models/registry.js';
import {
  type OllamaChatRequest,
  ollamaChatSchema,
  ollamaGenerateSchema,
  ollamaShowSchema,
} from '../../protocols/ollama/requests.js';
import { ollamaEncoder } from '../../protocols/ollama/responses.js';
import {
  keepAliveOf,
  ollamaChatToNative,
  ollamaGenerateToNative,
  refuseImages,
} from '../../protocols/ollama/to-native.js';
import { NDJSON } from '../framing.js';
import { respond } from '../respond.js';

/** The Ollama API version whose shapes these routes follow (clients check it). */
export const OLLAMA_API_VERSION = '0.12.0';

export interface OllamaRoutesOptions {
  generator: Generator;
  models: ModelManager;
}

/**
 * Ollama's API over the same models and engine: /api/chat, /api/generate,
 * /api/tags, /api/ps, /api/show, /api/version, and `/` answering that the
 * server runs. Errors keep the platform's catalogue and status codes and are
 * rendered `{"error":"..."}` as Ollama sends them, 404s under /api/ included.
 * Registered encapsulated (`app.register`): its error shape and body parsers
 * stay its own.
 */
export async function ollamaRoutes(
  app: FastifyInstance,
  options: OllamaRoutesOptions,
): Promise<void> {
  const { generator, models } = options;
  renderErrorsAs(app, (error) => ({ error: error.message }), { notFoundUnder: '/api' });

  // As Ollama: every body is JSON whatever its content type.
  readAnyBodyAsJson(app);

  // fastify answers HEAD / from this route too.
  app.get('/', async (_request, reply) => reply.type('text/plain').send('Ollama is running'));
  app.get('/api/version', async () => ({ version: OLLAMA_API_VERSION }));

  const details = async (entry: ModelEntry) => {
    const facts = await models.registry.factsOf(entry);
    return {
      facts,
      details: {
        parent_model: '',
        format: 'gguf',
        family: facts?.family ?? '',
        families: facts?.family ? [facts.family] : null,
        parameter_size: facts?.parameter_count ? parameterSize(facts.parameter_count) : '',
        quantization_level: facts?.quantization ?? '',
      },
    };
  };

  app.get('/api/tags', async () => {
    const entries = await models.registry.list();
    const listed = await Promise.all(
      entries.map(async (entry) => {
        // The file is read once per entry, then listed under each of its names.
        const { facts, details: info } = await details(entry);
        return namesOf(entry).map((name) => ({
          name,
          model: name,
          modified_at: facts?.modified_at ?? new Date(0).toISOString(),
          size: facts?.size_bytes ?? 0,
          digest: facts?.digest ?? '',
          details: info,
          context_length: facts?.context_length ?? null,
        }));
      }),
    );
    return { models: listed.flat() };
  });

  app.get('/api/ps', async () => ({
    models: await Promise.all(
      models.loaded().map(async (resident) => {
        const { facts, details: info } = await details(resident.entry);
        return {
          name: resident.entry.name,
          model: resident.entry.name,
          size: resident.estimatedRamBytes,
          digest: facts?.digest ?? '',
          details: info,
          expires_at: expiresAt(resident.lastUsedAt, resident.keepAliveMs),
          size_vram: 0,
          context_length: resident.engine.contextSize ?? facts?.context_length,
        };
      }),
    ),
  }));

  app.post('/api/show', async (request) => {
    const body = parseRequest(ollamaShowSchema, request.body);
    const lease = await models.acquire(body.model ?? body.name ?? '');
    try {
      const { engine, entry } = lease;
      const { details: info } = await details(entry);
      return {
        modelfile: `FROM ${entry.name}\n`,
        parameters: `num_ctx ${engine.contextSize}`,
        template: engine.chatTemplate,
        details: info,
        model_info: engine.ggufSummary(),
        capabilities: ['completion', 'tools'],
      };
    } finally {
      lease.release();
    }
  });

  app.post('/api/chat', async (request, reply) => {
    const body: OllamaChatRequest = parseRequest(ollamaChatSchema, request.body);
    if (body.messages.length === 0) {
      return loadOrUnload(body.model, keepAliveOf(body.keep_alive), 'chat');
    }
    return respond(generator, request, reply, ollamaChatToNative(body), {
      operation: 'chat',
      stream: body.stream,
      encoder: ollamaEncoder('chat', body.model),
      framing: NDJSON,
      attributes: { api: 'ollama' },
    });
  });

  app.post('/api/generate', async (request, reply) => {
    const body = parseRequest(ollamaGenerateSchema, request.body);
    refuseImages(body.images, 'images');
    if (body.prompt === '' && !body.system) {
      return loadOrUnload(body.model, keepAliveOf(body.keep_alive), 'generate');
    }
    return respond(generator, request, reply, ollamaGenerateToNative(body), {
      operation: 'text_completion',
      stream: body.stream,
      encoder: ollamaEncoder('generate', body.model),
      framing: NDJSON,
      attributes: { api: 'ollama' },
    });
  });

  /** Ollama's empty request: load the model (keep_alive 0: unload it) and say so. */
  async function loadOrUnload(
    model: string,
    keepAliveMs: number | undefined,
    operation: 'chat' | 'generate',
  ) {
    let reason: 'load' | 'unload';
    if (keepAliveMs === 0) {
      await models.unload(model);
      reason = 'unload';
    } else {
      (await models.acquire(model, keepAliveMs === undefined ? {} : { keepAliveMs })).release();
      reason = 'load';
    }
    const base = { model, created_at: new Date().toISOString(), done: true, done_reason: reason };
    return operation === 'chat'
      ? { ...base, message: { role: 'assistant', content: '' } }
      : { ...base, response: '' };
  }
}

/** 27.8M → "27.8M", 8.03B → "8.0B", as Ollama writes parameter sizes. */
function parameterSize(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  return `${(count / 1e3).toFixed(1)}K`;
}
