import { defineError } from 'hrserve';

/** embed's entries in the platform's error catalogue. */
export const embedErrors = {
  modelNotFound: defineError('model_not_found', 404, 'invalid_request_error'),
  contextLengthExceeded: defineError('context_length_exceeded', 400, 'invalid_request_error'),
  unsupportedParameter: defineError('unsupported_parameter', 400, 'invalid_request_error'),
} as const;
