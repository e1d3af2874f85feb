import { type FastifyInstance, parseRequest } from 'hrserve';
import type { Token } from 'node-llama-cpp';
import { z } from 'zod';
import type { ModelManager } from '../models/model-manager.js';

const tokenizeBody = z.object({
  content: z.string().max(1_000_000),
  model: z.string().optional(),
  add_special: z.boolean().optional(),
  with_pieces: z.boolean().optional(),
});

const detokenizeBody = z.object({
  tokens: z.array(z.int().min(0)).max(1_000_000),
  model: z.string().optional(),
});

/** POST /tokenize and /detokenize, shaped like llama.cpp's server (`{tokens}` and `{content}`). */
export function registerTokenize(app: FastifyInstance, models: ModelManager): void {
  app.post('/tokenize', async (request) => {
    const body = parseRequest(tokenizeBody, request.body);
    const lease = await models.acquireNamedOrDefault(body.model);
    try {
      const { engine } = lease;
      const tokens = engine.tokenize(body.content, body.add_special ?? false);
      if (!body.with_pieces) return { tokens };
      return { tokens: tokens.map((id) => ({ id, piece: engine.detokenize([id]) })) };
    } finally {
      lease.release();
    }
  });

  app.post('/detokenize', async (request) => {
    const model = parseRequest(detokenizeBody.pick({ model: true }).loose(), request.body).model;
    const lease = await models.acquireNamedOrDefault(model);
    try {
      const { engine } = lease;
      const vocabularySize = engine.vocabularySize;
      const body = parseRequest(
        detokenizeBody.refine((value) => value.tokens.every((token) => token < vocabularySize), {
          message: `token ids must be below the vocabulary size (${vocabularySize})`,
          path: ['tokens'],
        }),
        request.body,
      );
      return { content: engine.detokenize(body.tokens as Token[]) };
    } finally {
      lease.release();
    }
  });
}
