import {
  StoreConflictError,
  StoreNotReadyError,
  StoreUnavailableError,
  UnknownCursorError,
} from '@hrserve/store';
import { ApiError, defineError, errorCatalogue, isApiError } from 'hrserve';
import { DecodeLoopClosedError } from './engine/decode-loop.js';
import {
  ContextLengthExceededError,
  GenerationTimeoutError,
  InvalidSchemaError,
  PreemptedError,
  QueueFullError,
  QueueTimeoutError,
  TokenOutOfRangeError,
  TooManyChoicesError,
} from './engine/engine-errors.js';
import {
  ModelLoadFailedError,
  ModelLoadTimeoutError,
  ModelNotFoundError,
  ModelsClosedError,
  ModelTooLargeError,
  NoRoomError,
} from './models/model-errors.js';
import {
  ConversationItemNotFoundError,
  ConversationNotFoundError,
  NotCancellableError,
  ResponseNotContinuableError,
  ResponseNotFoundError,
} from './responses/response-errors.js';

/** llmchat's entries in the platform's error catalogue. */
export const llmchatErrors = {
  modelNotFound: defineError('model_not_found', 404, 'invalid_request_error'),
  contextLengthExceeded: defineError('context_length_exceeded', 400, 'invalid_request_error'),
  unsupportedParameter: defineError('unsupported_parameter', 400, 'invalid_request_error'),
  invalidSchema: defineError('invalid_schema', 400, 'invalid_request_error'),
  clientClosedRequest: defineError('client_closed_request', 499, 'invalid_request_error'),
  generationTimeout: defineError('generation_timeout', 504, 'server_error'),
  modelTooLarge: defineError('model_too_large', 400, 'invalid_request_error'),
  modelLoading: defineError('model_loading', 503, 'server_error'),
  modelBusy: defineError('model_busy', 503, 'server_error'),
  modelUnavailable: defineError('model_unavailable', 503, 'server_error'),
  storeUnavailable: defineError('store_unavailable', 503, 'server_error'),
} as const;

/** Seconds a client is told to wait for the response store. */
const STORE_RETRY_AFTER_SECONDS = '10';

/** What a client is told when the store cannot serve: the fault, and what still works. */
function storeUnavailable(fault: string): ApiError {
  return new ApiError(
    llmchatErrors.storeUnavailable,
    `Stored responses and conversations are unavailable right now (${fault}); retry later. Requests that need no stored state (store: false without previous_response_id or conversation, and /v1/chat/completions) keep working.`,
    { headers: { 'retry-after': STORE_RETRY_AFTER_SECONDS } },
  );
}

/** Seconds a client is told to wait for a model that is loading or for room to load it. */
const MODEL_RETRY_AFTER_SECONDS = '5';

/**
 * llmchat's domain errors as catalogued API errors: the one place they meet HTTP
 * (hrserve's `mapError`); undefined for anything else.
 */
export function llmchatApiError(error: unknown): ApiError | undefined {
  if (error instanceof QueueFullError || error instanceof QueueTimeoutError) {
    return new ApiError(
      error instanceof QueueFullError ? errorCatalogue.rateLimited : errorCatalogue.overloaded,
      error.message,
      { headers: { 'retry-after': String(error.retryAfterSeconds) } },
    );
  }
  if (error instanceof PreemptedError) {
    // Only batch work is preempted, and its runner runs it again at once, behind interactive work.
    return new ApiError(errorCatalogue.preempted, error.message, {
      headers: { 'retry-after': '0' },
    });
  }
  if (error instanceof ContextLengthExceededError) {
    const fix =
      error.input === 'input'
        ? 'Shorten the input, the question or its answers.'
        : 'Shorten the messages or the prompt.';
    return new ApiError(llmchatErrors.contextLengthExceeded, `${error.message} ${fix}`, {
      param: error.input,
      cause: error,
    });
  }
  if (error instanceof TokenOutOfRangeError) {
    return new ApiError(errorCatalogue.invalidRequest, error.message, { param: 'prompt' });
  }
  if (error instanceof TooManyChoicesError) {
    const { choices, sequences } = error;
    return new ApiError(
      errorCatalogue.invalidRequest,
      `'n' is ${choices}, but this model generates at most ${sequences} answers at once (LLMCHAT_PARALLEL=${sequences}). Ask for ${sequences} or fewer, or raise LLMCHAT_PARALLEL.`,
      { param: 'n' },
    );
  }
  if (error instanceof InvalidSchemaError) {
    return new ApiError(llmchatErrors.invalidSchema, error.message, { param: error.origin });
  }
  if (error instanceof GenerationTimeoutError) {
    return new ApiError(llmchatErrors.generationTimeout, error.message);
  }
  if (error instanceof DecodeLoopClosedError) {
    return new ApiError(errorCatalogue.draining, error.message, {
      headers: { 'retry-after': MODEL_RETRY_AFTER_SECONDS },
    });
  }
  if (error instanceof ModelNotFoundError) {
    return new ApiError(llmchatErrors.modelNotFound, error.message, { param: 'model' });
  }
  if (error instanceof ModelTooLargeError) {
    return new ApiError(llmchatErrors.modelTooLarge, error.message, { param: 'model' });
  }
  if (error instanceof ModelLoadTimeoutError) {
    return new ApiError(llmchatErrors.modelLoading, error.message, {
      headers: { 'retry-after': MODEL_RETRY_AFTER_SECONDS },
    });
  }
  if (error instanceof NoRoomError) {
    return new ApiError(llmchatErrors.modelBusy, error.message, {
      headers: { 'retry-after': MODEL_RETRY_AFTER_SECONDS },
    });
  }
  if (error instanceof ModelsClosedError) {
    return new ApiError(errorCatalogue.draining, error.message, {
      headers: { 'retry-after': MODEL_RETRY_AFTER_SECONDS },
    });
  }
  if (error instanceof ModelLoadFailedError) {
    return new ApiError(llmchatErrors.modelUnavailable, error.message, { cause: error });
  }
  return stateApiError(error);
}

/** The stateful routes' errors (the store's and the responses'). */
function stateApiError(error: unknown): ApiError | undefined {
  if (error instanceof StoreUnavailableError || error instanceof StoreNotReadyError) {
    return storeUnavailable(error.fault);
  }
  if (error instanceof ResponseNotFoundError || error instanceof ConversationNotFoundError) {
    return new ApiError(errorCatalogue.notFound, error.message, {
      ...(error.param ? { param: error.param } : {}),
    });
  }
  if (error instanceof ConversationItemNotFoundError) {
    return new ApiError(errorCatalogue.notFound, error.message);
  }
  if (error instanceof ResponseNotContinuableError) {
    return new ApiError(errorCatalogue.invalidRequest, error.message, {
      param: 'previous_response_id',
    });
  }
  if (error instanceof NotCancellableError) {
    return new ApiError(errorCatalogue.invalidRequest, error.message);
  }
  if (error instanceof UnknownCursorError) {
    return new ApiError(
      errorCatalogue.invalidRequest,
      `${error.message}; leave 'after' out to start at the first page.`,
      {
        param: 'after',
      },
    );
  }
  if (error instanceof StoreConflictError) {
    return new ApiError(
      errorCatalogue.invalidRequest,
      `An item id is already stored here: give new items new ids, or leave their ids out.`,
      {
        param: 'items',
      },
    );
  }
  return undefined;
}

/** Any error as the API error a client is told, for errors told in-band (a stream's error event). */
export function apiErrorOf(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return (
    llmchatApiError(error) ??
    new ApiError(
      errorCatalogue.internal,
      'Generation failed. Retry the request; if it keeps failing, report its x-request-id.',
      { cause: error },
    )
  );
}
