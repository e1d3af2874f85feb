import type { ApiError } from 'hrserve';
import { ContextLengthExceededError } from '../../engine/engine-errors.js';

/*
 * Anthropic's error shape and statuses (https://docs.anthropic.com/en/api/errors):
 * `{"type":"error","error":{"type":…,"message":…},"request_id":…}`, with 529 for an
 * overloaded service where the rest of the platform says 503.
 */

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  request_id: string | null;
}

/** Ours that are Anthropic's "overloaded": retry later (its clients do, on 529). */
const OVERLOADED = new Set([
  'service_overloaded',
  'service_draining',
  'service_not_ready',
  'model_busy',
  'model_loading',
]);

/**
 * The status Anthropic gives it: 529 where we say 503 for a busy service; a 503 that
 * retrying will not mend (a model that failed to load) is a 500 `api_error`.
 */
export function anthropicStatus(error: ApiError): number {
  if (error.status !== 503) return error.status;
  return OVERLOADED.has(error.code) ? 529 : 500;
}

function errorType(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * The error in Anthropic's shape; the message names the field at fault, as ours always do. A
 * prompt over the context says so in Anthropic's words ("prompt is too long: N tokens > M
 * maximum"), which clients such as Claude Code match to compact the conversation.
 */
export function toAnthropicError(
  error: ApiError,
  requestId: string | null = null,
): AnthropicErrorBody {
  const { cause } = error;
  const message =
    cause instanceof ContextLengthExceededError
      ? `prompt is too long: ${cause.promptTokens} tokens > ${cause.contextSize} maximum. ${error.message}`
      : error.param && !error.message.includes(error.param)
        ? `${error.param}: ${error.message}`
        : error.message;
  return {
    type: 'error',
    error: { type: errorType(anthropicStatus(error)), message },
    request_id: requestId,
  };
}
