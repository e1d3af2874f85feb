import { PassThrough } from 'node:stream';
import type { Attributes } from '@opentelemetry/api';
import type { ApiError, FastifyReply, FastifyRequest } from 'hrserve';
import { apiErrorOf } from '../errors.js';
import type { Generator } from '../generation/generator.js';
import type { FinishedGeneration, NativeChatRequest } from '../generation/native-request.js';
import type { Operation } from '../generation/telemetry.js';
import type { WireEncoder } from '../protocols/wire-encoder.js';
import { clientClosedRequest, watchDisconnect } from './client-closed.js';
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
  /**
   * Runs once every generation has finished, before the answer's last bytes are sent (a
   * stored response is written here, so one the client saw complete is stored). A failure
   * fails the request.
   */
  onFinished?(results: FinishedGeneration[]): Promise<void>;
  /** Runs once when the request fails or its client leaves (a stored response is marked failed). */
  onFailed?(error: ApiError): Promise<void>;
}

/**
 * The HTTP side of every generation route: watches the connection (a client
 * that leaves gives up its place or stops its generations at the next token),
 * submits the request — or several, one per prompt, each with its choices (n) — and sends the answer as
 * one body or as a stream opened once every generation holds a sequence.
 * Errors before that are plain HTTP errors (thrown); after it, the encoder's
 * in-band error ends the stream.
 */
export async function respond<Body>(
  generator: Generator,
  request: FastifyRequest,
  reply: FastifyReply,
  native: NativeChatRequest | NativeChatRequest[],
  answer: Answer<Body>,
): Promise<Body | FastifyReply> {
  const natives = Array.isArray(native) ? native : [native];
  const disconnect = new AbortController();
  // A client that left, even while a stored history was read: no generating for nobody.
  const stopWatching = watchDisconnect(request, reply, disconnect);
  const submitted = natives.map((one) =>
    generator.submitChoices(one, {
      signal: disconnect.signal,
      // A batch line (sent by the batch runner through this route) waits for free sequences,
      // and gives its own back to an interactive request that finds none (its runner runs it
      // again: a 503 `preempted`).
      priority: request.workPriority,
      preemptible: request.workPriority === 'batch',
      stream: answer.stream,
      operation: answer.operation,
      attributes: {
        ...answer.attributes,
        streaming: answer.stream,
        ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
      },
    }),
  );
  try {
    // Each prompt's choices in turn: choice index = prompt × n + choice, as OpenAI numbers them.
    const generations = (
      await Promise.all(submitted).catch((error: unknown) => {
        // One refused (queue full, say): the others, admitted or waiting, stop too.
        disconnect.abort(error);
        throw error;
      })
    ).flat();
    /** Every result; the first failure stops the other generations too. */
    const results = () =>
      Promise.all(generations.map((generation) => generation.result)).catch((error: unknown) => {
        const failure = apiErrorOf(error);
        disconnect.abort(failure);
        throw failure;
      });
    const { encoder, framing } = answer;
    if (!answer.stream) {
      const finished = await results();
      if (disconnect.signal.aborted) throw clientClosedRequest();
      await answer.onFinished?.(finished);
      reply.headers(timingHeaders(finished));
      return encoder.body(finished);
    }
    const body = new PassThrough();
    const write = (json: string) => {
      if (!body.writableEnded) body.write(framing.frame(json));
    };
    reply.headers(framing.headers);
    void reply.send(body);
    try {
      const promptTokens = generations.map((generation) => generation.promptTokens);
      for (const chunk of encoder.open(generations.length, promptTokens)) write(chunk);
      await Promise.all(
        generations.map(async (generation, choice) => {
          for await (const event of generation.events) {
            for (const chunk of encoder.event(event, choice)) write(chunk);
          }
          // A failed choice ends the stream now, not once the others are done.
          await generation.result;
        }),
      );
      const finished = await results();
      // A client that left stopped its generation: that answer is cut, not finished.
      if (disconnect.signal.aborted) throw clientClosedRequest();
      await answer.onFinished?.(finished);
      for (const chunk of encoder.close(finished)) write(chunk);
      if (!body.writableEnded) body.end(framing.end);
    } catch (error) {
      // Stops the generations too, when it was the stream that failed.
      disconnect.abort(error);
      const failure = apiErrorOf(error);
      if (failure.status === 499) request.log.info('the client left during the stream');
      else request.log.error({ err: error }, 'generation failed after the stream started');
      await failed(answer, request, failure);
      if (!body.writableEnded) body.end(framing.error(encoder.error(failure)));
    }
    return reply;
  } catch (error) {
    // Whatever stopped a request whose client left, nobody hears it: say so in the logs.
    const thrown =
      disconnect.signal.aborted && error !== disconnect.signal.reason
        ? clientClosedRequest()
        : error;
    await failed(answer, request, apiErrorOf(thrown));
    throw thrown;
  } finally {
    stopWatching();
  }
}

/** `onFailed`, whose own failure is logged: the request's error is what the client hears. */
async function failed(
  answer: Answer<unknown>,
  request: FastifyRequest,
  error: ApiError,
): Promise<void> {
  try {
    await answer.onFailed?.(error);
  } catch (hookError) {
    request.log.error({ err: hookError }, 'recording the failed request failed');
  }
}
