import type { Tracer } from '@opentelemetry/api';
import {
  type AdmissionQueue,
  ApiError,
  errorCatalogue,
  type FastifyInstance,
  type FastifyReply,
  parseRequest,
  startSpan,
  type WorkPriority,
} from 'hrserve';
import type { Token } from 'node-llama-cpp';
import type { EmbedConfig } from '../config.js';
import type { Embedder } from '../engine/embedder.js';
import { embedErrors } from '../errors.js';
import type { EmbedMetrics } from '../metrics.js';
import { type EmbeddingsRequest, embeddingsRequestSchema } from './embeddings-request.js';

export interface EmbeddingsDeps {
  embedder: () => Embedder;
  queue: AdmissionQueue;
  metrics: EmbedMetrics;
  tracer: Tracer;
  config: EmbedConfig;
}

/** float32 little-endian bytes, base64 — what OpenAI sends for encoding_format "base64". */
export function toBase64(vector: readonly number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/**
 * Every input as tokens, each checked against the vocabulary and the context, naming its
 * index; with `truncate` (Ollama's default) an input over the context keeps its start.
 */
export function toTokenInputs(
  embedder: Embedder,
  input: EmbeddingsRequest['input'],
  options: { truncate?: boolean } = {},
): Token[][] {
  const list: Array<string | number[]> =
    typeof input === 'string'
      ? [input]
      : input.length > 0 && typeof input[0] === 'number'
        ? [input as number[]]
        : (input as Array<string | number[]>);
  return list.map((item, index) => {
    const param =
      typeof input === 'string' || typeof input[0] === 'number' ? 'input' : `input.${index}`;
    let tokens: Token[];
    if (typeof item === 'string') {
      tokens = embedder.tokenize(item);
    } else {
      const bad = item.find((token) => token >= embedder.vocabularySize);
      if (bad !== undefined) {
        throw new ApiError(
          errorCatalogue.invalidRequest,
          `${param} has token id ${bad}, outside this model's vocabulary (0–${embedder.vocabularySize - 1}).`,
          { param },
        );
      }
      tokens = item as Token[];
    }
    if (tokens.length === 0) {
      throw new ApiError(errorCatalogue.invalidRequest, `${param} has no tokens; send some text.`, {
        param,
      });
    }
    const limit = embedder.inputLimitFor(tokens);
    if (tokens.length > limit && options.truncate) tokens = tokens.slice(0, limit);
    if (tokens.length > limit) {
      throw new ApiError(
        embedErrors.contextLengthExceeded,
        `${param} has ${tokens.length} tokens, over this model's maximum input of ${limit}. Shorten or split it.`,
        { param },
      );
    }
    return tokens;
  });
}

/** Aborted once the client has gone (the connection closed before the answer was sent). */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) {
      controller.abort(new Error('the client closed the connection'));
    }
  });
  return controller.signal;
}

/** The embedder serving `model`, or a 404 naming the models there are. */
export function embedderFor(deps: EmbeddingsDeps, model: string): Embedder {
  const embedder = deps.embedder();
  if (!embedder.modelIds.includes(model)) {
    throw new ApiError(
      embedErrors.modelNotFound,
      `The model '${model.slice(0, 200)}' does not exist. This server serves: ${embedder.modelIds.join(', ')}.`,
      { param: 'model' },
    );
  }
  return embedder;
}

/** Refuses more inputs than a request may carry (EMBED_MAX_INPUTS), naming the field. */
export function refuseTooManyInputs(deps: EmbeddingsDeps, count: number, param: string): void {
  if (count > deps.config.EMBED_MAX_INPUTS) {
    throw new ApiError(
      errorCatalogue.invalidRequest,
      `'${param}' has ${count} items, over the maximum of ${deps.config.EMBED_MAX_INPUTS} per request (EMBED_MAX_INPUTS); split it.`,
      { param },
    );
  }
}

/**
 * The embedding work every route shares, whatever its wire format: a place in the
 * queue, the vectors, the span and the metrics.
 */
export async function embedInputs(
  deps: EmbeddingsDeps,
  embedder: Embedder,
  inputs: Token[][],
  context: {
    model: string;
    encodingFormat: string;
    clientJobId: string | null | undefined;
    api?: string;
    /** Aborted when the client leaves: its inputs not started yet are dropped. */
    signal: AbortSignal;
    /** `batch` for a batch's line: it waits while interactive requests need the engine. */
    priority?: WorkPriority;
  },
): Promise<{ vectors: number[][]; promptTokens: number; durationMs: number }> {
  const promptTokens = inputs.reduce((sum, tokens) => sum + tokens.length, 0);
  if (promptTokens > deps.config.EMBED_MAX_REQUEST_TOKENS) {
    throw new ApiError(
      errorCatalogue.payloadTooLarge,
      `The inputs have ${promptTokens} tokens together, over the limit of ${deps.config.EMBED_MAX_REQUEST_TOKENS} per request (EMBED_MAX_REQUEST_TOKENS); split them over several requests.`,
      { param: 'input' },
    );
  }
  const attributes = {
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.provider.name': 'llama.cpp',
    'gen_ai.request.model': context.model,
    'gen_ai.request.encoding_formats': [context.encodingFormat],
    'embed.inputs': inputs.length,
    ...(context.api ? { api: context.api } : {}),
    ...(context.clientJobId ? { client_job_id: context.clientJobId } : {}),
  };
  return startSpan(deps.tracer, `embeddings ${context.model}`, attributes, async (span) => {
    const startedAt = performance.now();
    const slot = await deps.queue.acquire(context.signal, context.priority);
    try {
      const vectors = await embedder.embed(inputs, context.signal);
      span.setAttributes({
        'gen_ai.usage.input_tokens': promptTokens,
        'gen_ai.embeddings.dimension.count': embedder.dimensions,
      });
      const durationMs = performance.now() - startedAt;
      deps.metrics.record(context.model, inputs.length, promptTokens, durationMs / 1000);
      return { vectors, promptTokens, durationMs };
    } finally {
      slot.release();
    }
  });
}

/** POST /v1/embeddings — https://platform.openai.com/docs/api-reference/embeddings/create */
export function registerEmbeddings(app: FastifyInstance, deps: EmbeddingsDeps): void {
  app.post('/v1/embeddings', async (request, reply) => {
    const body = parseRequest(embeddingsRequestSchema, request.body);
    const embedder = embedderFor(deps, body.model);
    if (body.dimensions !== undefined && body.dimensions !== embedder.dimensions) {
      throw new ApiError(
        embedErrors.unsupportedParameter,
        `This model's vectors have ${embedder.dimensions} dimensions and it was not trained to be shortened; omit 'dimensions' or send ${embedder.dimensions}.`,
        { param: 'dimensions' },
      );
    }
    const count =
      typeof body.input === 'string' || typeof body.input[0] === 'number' ? 1 : body.input.length;
    refuseTooManyInputs(deps, count, 'input');
    const inputs = toTokenInputs(embedder, body.input);
    const { vectors, promptTokens } = await embedInputs(deps, embedder, inputs, {
      model: body.model,
      encodingFormat: body.encoding_format ?? 'float',
      clientJobId: request.clientJobId,
      signal: clientGone(reply),
      priority: request.workPriority,
    });
    return {
      object: 'list',
      data: vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? toBase64(vector) : vector,
      })),
      model: body.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });
}
