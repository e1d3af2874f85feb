import { type FastifyInstance, parseRequest } from 'hrserve';
import type { Generator } from '../generation/generator.js';
import { decisionCreateRequestSchema } from '../protocols/openai-decisions/request.js';
import { decisionBody } from '../protocols/openai-decisions/response.js';
import { decisionToNative } from '../protocols/openai-decisions/to-native.js';
import { watchDisconnect } from './client-closed.js';

/**
 * POST /v1/decisions — OpenAI's Decisions API: typed answers with probabilities, weighed by
 * the model instead of generated (protocols/openai-decisions, engine/score.ts).
 */
export function registerDecisions(app: FastifyInstance, generator: Generator): void {
  app.post('/v1/decisions', async (request, reply) => {
    const plan = decisionToNative(parseRequest(decisionCreateRequestSchema, request.body));
    const disconnect = new AbortController();
    const stopWatching = watchDisconnect(request, reply, disconnect);
    try {
      const scored = await generator.score(plan.native, {
        signal: disconnect.signal,
        priority: request.workPriority,
        attributes: { 'llmchat.protocol': 'openai' },
      });
      return decisionBody(plan, scored);
    } finally {
      stopWatching();
    }
  });
}
