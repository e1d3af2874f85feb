import { ApiError } from 'hrserve';
import { llmchatErrors } from '../errors.js';

/** The client left before its answer was ready (nginx's 499); nobody reads this, but the logs and metrics do. */
export function clientClosedRequest(): ApiError {
  return new ApiError(
    llmchatErrors.clientClosedRequest,
    'The client closed the connection before the answer was ready.',
  );
}
