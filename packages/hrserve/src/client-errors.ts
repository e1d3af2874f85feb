import type { Socket } from 'node:net';
import { ApiError, errorCatalogue } from './errors/catalogue.js';
import { toOpenAIErrorBody } from './errors/openai-error-body.js';

/**
 * Answers errors node's HTTP parser raises before fastify sees a request
 * (oversized headers, malformed HTTP, a client too slow to send its request)
 * in the same OpenAI error shape as everything else, then closes the socket.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const apiError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError(
          errorCatalogue.headersTooLarge,
          'Request headers are too large. Send fewer or smaller headers.',
        )
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError(
            errorCatalogue.requestTimeout,
            'The request was not received in time. Send the whole request promptly.',
          )
        : new ApiError(errorCatalogue.invalidRequest, 'Malformed HTTP request.');
  const body = JSON.stringify(toOpenAIErrorBody(apiError));
  const reason = {
    400: 'Bad Request',
    408: 'Request Timeout',
    431: 'Request Header Fields Too Large',
  }[apiError.status];
  socket.end(
    `HTTP/1.1 ${apiError.status} ${reason ?? 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
