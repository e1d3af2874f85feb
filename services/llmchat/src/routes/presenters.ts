import type { FastifyReply } from 'hrserve';
import type { GenerationResult, GenerationSink } from '../engine/types.js';
import { toTimings } from '../openai/chat-response.js';
import { SSE_HEADERS, SseStream } from '../openai/sse.js';
import type { Presenter } from './run-generation.js';
import { timingHeaders } from './timing-headers.js';

const IGNORE_OUTPUT: GenerationSink = {
  text: () => {},
  toolCallStart: () => {},
  toolCallArguments: () => {},
};

/** One JSON body once generation ends, with the timings as headers. */
export function jsonPresenter<Body>(
  reply: FastifyReply,
  toBody: (result: GenerationResult) => Body,
): Presenter<Body> {
  return {
    streaming: false,
    start: () => {},
    sink: IGNORE_OUTPUT,
    finish: (result, queueMs) => {
      reply.headers(timingHeaders(result, queueMs));
      return toBody(result);
    },
    fail: () => {},
  };
}

export interface StreamShape {
  /** Sent as soon as the stream opens (chat: the role delta). */
  opening?: unknown;
  /** Turns generated output into chunks. */
  sink(sse: SseStream): GenerationSink;
  /** The closing chunks; `timings` (llama.cpp's extension) goes on the last. */
  closing(result: GenerationResult, timings: { timings: ReturnType<typeof toTimings> }): unknown[];
}

/** Server-sent events as OpenAI streams them, opened once the request holds a sequence. */
export function ssePresenter(reply: FastifyReply, shape: StreamShape): Presenter<undefined> {
  const sse = new SseStream();
  return {
    streaming: true,
    start: () => {
      reply.headers(SSE_HEADERS);
      void reply.send(sse.body);
      if (shape.opening !== undefined) sse.send(shape.opening);
    },
    sink: shape.sink(sse),
    finish: (result, queueMs) => {
      const timings = { timings: toTimings(result.timings, result.completionTokens, queueMs) };
      for (const chunk of shape.closing(result, timings)) sse.send(chunk);
      sse.done();
      return undefined;
    },
    fail: (error) => sse.fail(error),
  };
}
