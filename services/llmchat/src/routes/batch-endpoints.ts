import type { BodyCheck } from '@hrserve/batches';
import { ApiError, errorCatalogue, parseRequest } from 'hrserve';
import {
  chatCompletionRequestSchema,
  completionRequestSchema,
} from '../protocols/openai/chat-request.js';
import { chatCompletionToNative, completionToNative } from '../protocols/openai/to-native.js';
import { responseCreateRequestSchema } from '../protocols/openai-responses/request.js';
import { responseToNative } from '../protocols/openai-responses/to-native.js';

/**
 * The endpoints llmchat runs batches for, each with the check its route makes of a body
 * (the schema, then the conversion), so a batch with a body the route would refuse fails
 * at validation, naming the line, before any line runs.
 */
export const llmchatBatchEndpoints: Readonly<Record<string, BodyCheck>> = {
  '/v1/chat/completions': (body) => {
    chatCompletionToNative(parseRequest(chatCompletionRequestSchema, body));
  },
  '/v1/completions': (body) => {
    completionToNative(parseRequest(completionRequestSchema, body));
  },
  '/v1/responses': (body) => {
    const request = parseRequest(responseCreateRequestSchema, body);
    if (request.background) {
      throw new ApiError(
        errorCatalogue.invalidRequest,
        "'background: true' in a batch: a batch's requests already run in the background. Leave it out.",
        { param: 'background' },
      );
    }
    responseToNative(request);
  },
};
