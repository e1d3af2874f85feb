import { PassThrough } from 'node:stream';
import type { ApiError, FastifyReply } from 'hrserve';
import type { GenerationResult, GenerationSink } from '../../engine/types.js';
import type { Presenter } from '../run-generation.js';

/** Ollama's stream: one JSON object per line; an error after the first line is an `{"error"}` line. */
export function ndjsonPresenter(
  reply: FastifyReply,
  shape: {
    sink(send: (line: unknown) => void): GenerationSink;
    closing(result: GenerationResult): unknown[];
  },
): Presenter<undefined> {
  const body = new PassThrough();
  const send = (line: unknown) => {
    if (!body.writableEnded) body.write(`${JSON.stringify(line)}\n`);
  };
  return {
    streaming: true,
    start: () => {
      reply.header('content-type', 'application/x-ndjson');
      void reply.send(body);
    },
    sink: shape.sink(send),
    finish: (result) => {
      for (const line of shape.closing(result)) send(line);
      body.end();
      return undefined;
    },
    fail: (error: ApiError) => {
      send({ error: error.message });
      body.end();
    },
  };
}
