import type { FastifyInstance } from 'fastify';
import { ApiError, errorCatalogue } from '../errors/catalogue.js';

/**
 * Reads every request body in this (encapsulated) context as JSON, whatever its
 * content type, as Ollama's API does: `curl -d` sends a form type, `fetch` with
 * a string body text/plain. The rest of the app keeps refusing other types (415).
 */
export function readAnyBodyAsJson(instance: FastifyInstance): void {
  const asJson = (
    _request: unknown,
    body: string | Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => {
    try {
      const text = body.toString();
      done(null, text === '' ? {} : JSON.parse(text));
    } catch {
      done(new ApiError(errorCatalogue.invalidJson, 'The request body is not valid JSON.'));
    }
  };
  instance.addContentTypeParser('text/plain', { parseAs: 'string' }, asJson);
  instance.addContentTypeParser('*', { parseAs: 'string' }, asJson);
}
