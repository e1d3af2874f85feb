import type { ApiError } from 'hrserve';

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
  request_id?: string;
}

/** The status Anthropic gives it: 529 where we say 503 (draining, a model loading, full). */
export function anthropicStatus(error: ApiError): number {
  return error.status === 503 ? 529 : error.status;
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

/** The error in Anthropic's shape; the message names the field at fault, as ours always do. */
export function toAnthropicError(error: ApiError, requestId?: string): AnthropicErrorBody {
  const message =
    error.param && !error.message.includes(error.param)
      ? `${error.param}: ${error.message}`
      : error.message;
  return {
    type: 'error',
    error: { type: errorType(error.status), message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}
