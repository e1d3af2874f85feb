import { PassThrough } from 'node:stream';
import type { Attributes } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'hrserve';
import { apiErrorOf } from '../errors.js';
import type { Generator } from '../generation/generator.js';
import type { NativeChatRequest } from '../generation/native-request.js';
import type { Operation } from '../generation/telemetry.js';
import type { WireEncoder } from '../protocols/wire-encoder.js';
import { clientClosedRequest } from './client-closed.js';
import type { Framing } from './framing.js';
import { timingHeaders } from './timing-headers.js';

export interface Answer<Body> {
  operation: Operation;
  /** Stream the answer (framed chunks) or send one body. */
  stream: boolean;
  encoder: WireEncoder<Body>;
  framing: Framing;
  /** The protocol's span attributes (api, response id…). */
  attributes?: Attributes;
}

/**
 * The HTTP side of every generation route: watches the connection (a client
 * that leaves gives up its place or stops its generation at the next token),
 * submits the request, and sends the answer as one body or as a stream opened
 * once a sequence is ours. Errors before that are plain HTTP errors (thrown);
 * after it, the encoder's in-band error ends the stream.
 */
export async function respond<Body>(
  generator: Generator,
  request: FastifyRequest,
  reply: FastifyReply,
  native: NativeChatRequest,
  answer: Answer<Body>,
): Promise<Body | FastifyReply> {
  const disconnect = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) disconnect.abort(clientClosedRequest());
  };
  reply.raw.once('close', onClose);
  try {
    const generation = await generator.submit(native, {
      signal: disconnect.signal,
      stream: answer.stream,
      operation: answer.operation,
      attributes: {
        ...answer.attributes,
        streaming: answer.stream,
        ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
      },
    });
    const { encoder, framing } = answer;
    if (!answer.stream) {
      const result = await generation.result.catch((error: unknown) => {
        throw apiErrorOf(error);
      });
      if (disconnect.signal.aborted) throw clientClosedRequest();
      reply.headers(timingHeaders(result));
      return encoder.body(result);
    }
    const body = new PassThrough();
    const write = (json: string) => {
      if (!body.writableEnded) body.write(framing.frame(json));
    };
    reply.headers(framing.headers);
    void reply.send(body);
    try {
      for (const chunk of encoder.open()) write(chunk);
      for await (const event of generation.events) {
        for (const chunk of encoder.event(event)) write(chunk);
      }
      const result = await generation.result;
      for (const chunk of encoder.close(result)) write(chunk);
      if (!body.writableEnded) body.end(framing.end);
    } catch (error) {
      // Stops the generation too, when it was the stream that failed.
      disconnect.abort(error);
      request.log.error({ err: error }, 'generation failed after the stream started');
      if (!body.writableEnded) body.end(framing.error(encoder.error(apiErrorOf(error))));
    }
    return reply;
  } catch (error) {
    // Whatever stopped a request whose client left, nobody hears it: say so in the logs.
    if (disconnect.signal.aborted) throw clientClosedRequest();
    throw error;
  } finally {
    reply.raw.off('close', onClose);
  }
}
