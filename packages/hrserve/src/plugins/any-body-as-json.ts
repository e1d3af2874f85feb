import type { FastifyInstance } from 'fastify';
import { ApiError, errorCatalogue } from '../errors/catalogue.js';
import { utf8BodyText } from './utf8-body.js';

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
    let text: string;
    try {
      text = utf8BodyText(body as Buffer);
    } catch (error) {
      done(error as Error);
      return;
    }
    try {
      done(null, text === '' ? {} : JSON.parse(text));
    } catch {
      done(new ApiError(errorCatalogue.invalidJson, 'The request body is not valid JSON.'));
    }
  };
  instance.addContentTypeParser('text/plain', { parseAs: 'buffer' }, asJson);
  instance.addContentTypeParser('*', { parseAs: 'buffer' }, asJson);
}
