import type { StateStore } from '@hrserve/store';
import { type FastifyInstance, renderErrorsAs, toOpenAIErrorBody } from 'hrserve';
import type { Generator } from '../../generation/generator.js';
import type { BackgroundResponses } from '../../responses/background.js';
import { registerConversations } from './conversations.js';
import { registerCreateResponse } from './create.js';
import { registerStoredResponses } from './stored.js';

export interface ResponsesRoutesOptions {
  generator: Generator;
  state: StateStore;
  background: BackgroundResponses;
}

/**
 * OpenAI's Responses and Conversations APIs, in OpenAI's error shape: the stateful
 * routes. When the store is down they answer 503 (store_unavailable); a create with
 * `store: false` and no state still works.
 */
export async function responsesRoutes(app: FastifyInstance, options: ResponsesRoutesOptions) {
  renderErrorsAs(app, toOpenAIErrorBody);
  registerCreateResponse(app, options.generator, options.state, options.background);
  registerStoredResponses(app, options.state, options.background);
  registerConversations(app, options.state);
}
