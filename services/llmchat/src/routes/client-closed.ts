import { ApiError, type FastifyReply, type FastifyRequest } from 'hrserve';
import { llmchatErrors } from '../errors.js';

/** The client left before its answer was ready (nginx's 499); nobody reads this, but the logs and metrics do. */
export function clientClosedRequest(): ApiError {
  return new ApiError(
    llmchatErrors.clientClosedRequest,
    'The client closed the connection before the answer was ready.',
  );
}

/**
 * Aborts `controller` (with `clientClosedRequest()`) when the client leaves before its answer
 * is sent, or has left already while the request was read or prepared (its 'close' event
 * would never come now). Returns the function that stops watching.
 */
export function watchDisconnect(
  request: FastifyRequest,
  reply: FastifyReply,
  controller: AbortController,
): () => void {
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(clientClosedRequest());
  };
  reply.raw.once('close', onClose);
  if (request.raw.socket?.destroyed) controller.abort(clientClosedRequest());
  return () => reply.raw.off('close', onClose);
}
