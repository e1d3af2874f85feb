import { defineError } from 'hrserve';

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
} as const;
