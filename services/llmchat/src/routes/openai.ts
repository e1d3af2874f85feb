import { type FastifyInstance, renderErrorsAs, toOpenAIErrorBody } from 'hrserve';
import type { Generator } from '../generation/generator.js';
import type { ModelManager } from '../models/model-manager.js';
import { registerChatCompletions } from './chat-completions.js';
import { registerCompletions } from './completions.js';
import { registerDecisions } from './decisions.js';
import { registerModels } from './models.js';

export interface OpenAIRoutesOptions {
  generator: Generator;
  models: ModelManager;
  /** Unix seconds: the `created` of every model in /v1/models. */
  startedAt: number;
}

/**
 * OpenAI's API: /v1/chat/completions, /v1/completions, /v1/decisions, /v1/models. An
 * encapsulated plugin (`app.register`) with OpenAI's error shape; each route
 * parses its body, converts it (protocols/openai) and hands it to `respond`.
 */
export async function openaiRoutes(app: FastifyInstance, options: OpenAIRoutesOptions) {
  renderErrorsAs(app, toOpenAIErrorBody);
  registerChatCompletions(app, options.generator);
  registerCompletions(app, options.generator);
  registerDecisions(app, options.generator);
  registerModels(app, options.models, options.startedAt);
}
