import { ApiError } from 'hrserve';
import type { LlamaEngine } from '../engine/llama-engine.js';
import { llmchatErrors } from '../errors.js';

/** A request must name a served model (its id or an alias); anything else is 404, as OpenAI answers. */
export function ensureServedModel(engine: LlamaEngine, model: string): void {
  if (engine.modelIds.includes(model)) return;
  throw new ApiError(
    llmchatErrors.modelNotFound,
    `The model '${model.slice(0, 200)}' does not exist. This server serves: ${engine.modelIds.join(', ')}.`,
    { param: 'model' },
  );
}

/** The client left before its answer was ready (nginx's 499); nobody reads this, but the logs and metrics do. */
export function clientClosedRequest(): ApiError {
  return new ApiError(
    llmchatErrors.clientClosedRequest,
    'The client closed the connection before the answer was ready.',
  );
}
