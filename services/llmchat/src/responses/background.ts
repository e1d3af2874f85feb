import { PassThrough } from 'node:stream';
import type { Attributes } from '@opentelemetry/api';
import {
  ApiError,
  errorCatalogue,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
} from 'hrserve';
import { apiErrorOf } from '../errors.js';
import type { Generator } from '../generation/generator.js';
import type { ResponseObject } from '../protocols/openai-responses/response.js';
import { RESPONSES_SSE } from '../routes/framing.js';
import type { PreparedResponse } from './prepare-response.js';

/** A background response running in this process, and every event it has produced. */
interface Run {
  prepared: PreparedResponse;
  abort: AbortController;
  /** Each stream event's JSON; an event's index is its sequence_number. */
  events: string[];
  done: boolean;
  /** Called on each new event and at the end. */
  listeners: Set<() => void>;
  /** Whether events are kept (a streamed run's, for resuming); else dropped as they come. */
  keepEvents: boolean;
  finished: Promise<void>;
}

/** Why a run stopped when POST /cancel stopped it. */
const CANCELLED = Symbol('cancelled');

/** How long a finished run's events stay here for a resumed stream. */
const KEEP_EVENTS_MS = 10 * 60_000;

/**
 * `background: true` responses: stored queued, answered at once (or streamed), generated
 * at the engine's batch priority (interactive requests are admitted first), polled with
 * GET, cancelled with POST /cancel, and their stream resumed with `starting_after`, for
 * ten minutes after they finish, from this process's memory.
 */
export class BackgroundResponses {
  readonly #runs = new Map<string, Run>();
  #closed = false;

  constructor(
    private readonly generator: Generator,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(
    prepared: PreparedResponse,
    request: FastifyRequest,
    reply: FastifyReply,
    attributes: Attributes,
  ): Promise<ResponseObject | FastifyReply> {
    await prepared.begin('queued');
    const run: Run = {
      prepared,
      abort: new AbortController(),
      events: [],
      done: false,
      listeners: new Set(),
      keepEvents: true,
      finished: Promise.resolve(),
    };
    // Only a streamed background response can be resumed: the others keep no events.
    const streamed = (request.body as { stream?: unknown }).stream === true;
    if (!streamed) run.keepEvents = false;
    this.#runs.set(prepared.id, run);
    run.finished = this.#run(run, {
      ...attributes,
      background: true,
      ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
    });
    if (!streamed) return prepared.snapshot('queued');
    return this.stream(prepared.id, -1, reply) ?? reply;
  }

  /** Whether `id` runs (or ran lately) here, with its events. */
  has(id: string): boolean {
    return this.#runs.has(id);
  }

  /**
   * The events of `id` after `startingAfter`, then the live ones until it ends. A client that
   * leaves stops reading, not the response. Undefined when the events are not here.
   */
  stream(id: string, startingAfter: number, reply: FastifyReply): FastifyReply | undefined {
    const run = this.#runs.get(id);
    if (!run) return undefined;
    const body = new PassThrough();
    let next = Math.max(0, startingAfter + 1);
    const pump = () => {
      while (next < run.events.length && !body.writableEnded) {
        body.write(RESPONSES_SSE.frame(run.events[next++] ?? ''));
      }
      if (run.done || reply.raw.destroyed) {
        run.listeners.delete(pump);
        if (!body.writableEnded) body.end();
      }
    };
    run.listeners.add(pump);
    // A reader that leaves stops reading; the response runs on.
    reply.raw.once('close', () => {
      run.listeners.delete(pump);
      if (!body.writableEnded) body.end();
    });
    reply.headers(RESPONSES_SSE.headers);
    void reply.send(body);
    pump();
    return reply;
  }

  /**
   * Stops `id` if it runs here and waits until it is stored as cancelled; false when it
   * does not run here (the route then marks it cancelled in the store).
   */
  async cancel(id: string): Promise<boolean> {
    const run = this.#runs.get(id);
    if (!run || run.done) return false;
    run.abort.abort(CANCELLED);
    await run.finished;
    return true;
  }

  /** At shutdown: every running response is stopped and stored as failed. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#runs.values()].filter((run) => !run.done);
    for (const run of running) {
      run.abort.abort(
        new ApiError(
          errorCatalogue.draining,
          'The server stopped while this background response was running; create it again.',
        ),
      );
    }
    await Promise.all(running.map((run) => run.finished));
  }

  async #run(run: Run, attributes: Attributes): Promise<void> {
    const { prepared, abort } = run;
    const { encoder } = prepared;
    const push = (events: string[]) => {
      if (!run.keepEvents) return;
      run.events.push(...events);
      for (const listener of [...run.listeners]) listener();
    };
    try {
      const generation = await this.generator.submit(prepared.native, {
        signal: abort.signal,
        priority: 'batch',
        stream: true,
        operation: 'chat',
        attributes,
      });
      push(encoder.open(1));
      // Cancelled before it started (by another instance, or before this run was known): stop.
      if (!(await prepared.started())) abort.abort(CANCELLED);
      for await (const event of generation.events) push(encoder.event(event, 0));
      const result = await generation.result;
      abort.signal.throwIfAborted();
      await prepared.finish(encoder.final([result]));
      push(encoder.close([result]));
    } catch (caught) {
      const cancelled = abort.signal.reason === CANCELLED;
      const error = apiErrorOf(cancelled || !abort.signal.aborted ? caught : abort.signal.reason);
      if (!cancelled)
        this.log.warn({ err: caught, response_id: prepared.id }, 'background response failed');
      try {
        await prepared.fail(encoder.failed(error, cancelled ? 'cancelled' : 'failed'));
      } catch (storeError) {
        this.log.error(
          { err: storeError, response_id: prepared.id },
          'could not store the failed background response',
        );
      }
      push([cancelled ? encoder.cancelledEvent() : encoder.failedEvent(error)]);
    } finally {
      run.done = true;
      for (const listener of [...run.listeners]) listener();
      if (!this.#closed) setTimeout(() => this.#runs.delete(prepared.id), KEEP_EVENTS_MS).unref();
    }
  }
}
