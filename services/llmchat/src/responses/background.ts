import { PassThrough } from 'node:stream';
import { type JobOutcome, JobRunner, runnerOwner } from '@hrserve/batches';
import type { ClaimedJob, StateStore } from '@hrserve/store';
import type { Attributes } from '@opentelemetry/api';
import {
  ApiError,
  errorCatalogue,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  parseRequest,
} from 'hrserve';
import { PreemptedError } from '../engine/engine-errors.js';
import { apiErrorOf } from '../errors.js';
import type { Generator } from '../generation/generator.js';
import { responseCreateRequestSchema } from '../protocols/openai-responses/request.js';
import type { ResponseObject } from '../protocols/openai-responses/response.js';
import { RESPONSES_SSE } from '../routes/framing.js';
import { endedBody } from './ended-body.js';
import { type PreparedResponse, prepareResponse } from './prepare-response.js';

/** Times a durable response is put back for a busy service (429, 503) before it fails. */
const MAX_RETRIES = 30;

/** The job queue durable background responses run from. */
export const RESPONSE_QUEUE = 'response';

/** A durable background response's job: enough to prepare it again and run it. */
interface ResponseJob {
  response_id: string;
  created_at_ms: number;
  /** The request body as the client sent it (parsed again when the job runs). */
  request: unknown;
  client_job_id: string | null;
}

export interface BackgroundOptions {
  service: string;
  /** Durable background responses running at once in this process. */
  concurrency: number;
  /** How long a claimed response stays claimed without renewal (BATCH_LEASE). */
  leaseMs: number;
}

/** A background response running in this process, and every event it has produced. */
interface Run {
  prepared: PreparedResponse;
  abort: AbortController;
  /** Each stream event's JSON; an event's index is its sequence_number. */
  events: string[];
  done: boolean;
  /** Called on each new event and at the end. */
  listeners: Set<() => void>;
  finished: Promise<void>;
}

/** Why a run stopped when POST /cancel stopped it. */
const CANCELLED = Symbol('cancelled');

/** How long a finished run's events stay here for a resumed stream. */
const KEEP_EVENTS_MS = 10 * 60_000;

/**
 * `background: true` responses: stored queued, answered at once (or streamed), generated
 * at the engine's batch priority (interactive requests are admitted first), polled with
 * GET, cancelled with POST /cancel.
 *
 * One that is not streamed is durable: stored with a job in the same transaction, and run
 * by the job runner batches use (`@hrserve/batches`), so any instance on the store may run
 * it and a restart after a crash runs it again from the start. A streamed one runs in this
 * process, which keeps its events so the stream can be resumed with `starting_after` for
 * ten minutes after it ends; a crash fails it (its stream cannot be resumed elsewhere).
 */
export class BackgroundResponses {
  readonly #runs = new Map<string, Run>();
  readonly #jobs: JobRunner;
  /** Times each job was put back because the service was busy (bounded by MAX_RETRIES). */
  readonly #retries = new Map<string, number>();
  #closed = false;
  readonly #closing = Promise.withResolvers<undefined>();
  #resumed: Promise<void> | undefined;

  constructor(
    private readonly generator: Generator,
    private readonly log: FastifyBaseLogger,
    private readonly state: StateStore,
    options: BackgroundOptions,
  ) {
    this.#jobs = new JobRunner({
      queue: RESPONSE_QUEUE,
      owner: runnerOwner(options.service),
      concurrency: options.concurrency,
      leaseMs: options.leaseMs,
      pollMs: 1_000,
      maxAttempts: 3,
      jobs: () => state.current().jobs,
      run: (job, signal) => this.#runJob(job, signal),
      failure: (job, error) => this.#jobFailed(job, error),
      // The response holds the outcome: the job is done with.
      onFinished: (job) => {
        state
          .current()
          .jobs.deleteGroup(job.groupId)
          .catch((error: unknown) =>
            log.warn({ err: error, response_id: job.groupId }, 'dropping a finished job failed'),
          );
      },
      log,
    });
  }

  /**
   * Begins running durable background responses once the store is open: those queued, and
   * (with SQLite, one process) those the last run held when it was killed.
   */
  resume(): Promise<void> {
    this.#resumed ??= Promise.race([this.state.whenOpen(), this.#closing.promise]).then((store) => {
      // The runner gives back what a killed run held (SQLite) as it starts.
      if (store && !this.#closed) this.#jobs.start();
    });
    return this.#resumed;
  }

  async start(
    prepared: PreparedResponse,
    request: FastifyRequest,
    reply: FastifyReply,
    attributes: Attributes,
  ): Promise<ResponseObject | FastifyReply> {
    // Streamed: in this process, which keeps the events. Else durable, on the job runner.
    const streamed = (request.body as { stream?: unknown }).stream === true;
    if (!streamed) {
      const payload: ResponseJob = {
        response_id: prepared.id,
        created_at_ms: prepared.createdAtMs,
        request: request.body,
        client_job_id: request.clientJobId,
      };
      await prepared.begin('queued', {
        id: `${prepared.id}:run`,
        queue: RESPONSE_QUEUE,
        groupId: prepared.id,
        position: 0,
        payload,
      });
      this.#jobs.wake();
      return prepared.snapshot('queued');
    }
    await prepared.begin('queued');
    const run: Run = {
      prepared,
      abort: new AbortController(),
      events: [],
      done: false,
      listeners: new Set(),
      finished: Promise.resolve(),
    };
    this.#runs.set(prepared.id, run);
    run.finished = this.#run(run, {
      ...attributes,
      background: true,
      ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
    });
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
   * does not run in this process's memory (the route then marks it cancelled in the store):
   * a durable one's job is cancelled, and stopped at once if this process runs it (another
   * instance stops it at its next lease renewal).
   */
  async cancel(id: string): Promise<boolean> {
    const run = this.#runs.get(id);
    if (!run || run.done) {
      await this.state.current().jobs.cancelGroup(id, Date.now());
      this.#jobs.abortGroup(id);
      return false;
    }
    run.abort.abort(CANCELLED);
    await run.finished;
    return true;
  }

  /**
   * At shutdown: every streamed response running here is stopped and stored as failed;
   * durable ones go back to their queue, for the next run (or another instance) to resume.
   */
  async close(): Promise<void> {
    this.#closed = true;
    // A resume still waiting for the store (a database down) stops waiting.
    this.#closing.resolve(undefined);
    await this.#resumed?.catch(() => {});
    await this.#jobs.stop();
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

  /** Runs a durable background response from its job: prepared again, then generated. */
  async #runJob(job: ClaimedJob, signal: AbortSignal): Promise<JobOutcome> {
    const payload = job.payload as ResponseJob;
    const body = parseRequest(responseCreateRequestSchema, payload.request);
    let prepared: PreparedResponse | undefined;
    try {
      prepared = await prepareResponse(body, this.state, Date.now, {
        id: payload.response_id,
        createdAtMs: payload.created_at_ms,
      });
      // Cancelled or deleted before it started: nothing to do.
      if (!(await prepared.started()))
        return this.#settled(job, { status: 'succeeded', result: null });
      const generation = await this.generator.submit(prepared.native, {
        signal,
        priority: 'batch',
        // It can run again from the start: it gives its sequence to an interactive request.
        preemptible: true,
        stream: false,
        operation: 'chat',
        attributes: {
          'gen_ai.response.id': prepared.id,
          background: true,
          stored: true,
          'llmchat.attempt': job.attempts,
          ...(payload.client_job_id ? { client_job_id: payload.client_job_id } : {}),
        },
      });
      const result = await generation.result;
      signal.throwIfAborted();
      await prepared.finish(prepared.encoder.final([result]));
      return this.#settled(job, { status: 'succeeded', result: null });
    } catch (error) {
      // Stopped here (cancelled, shutting down): the canceller or the next claim decides.
      if (signal.aborted) throw error;
      // Gave its sequence to an interactive request: back to the queue, run again.
      if (error instanceof PreemptedError) return { status: 'retry', afterMs: 0 };
      const failure = apiErrorOf(error);
      // Not now (a full queue, a model loading, the store down): run again later, a while.
      const tries = (this.#retries.get(job.id) ?? 0) + 1;
      if ((failure.status === 429 || failure.status === 503) && tries <= MAX_RETRIES) {
        this.#retries.set(job.id, tries);
        const seconds = Number(failure.headers['retry-after'] ?? 1);
        return { status: 'retry', afterMs: Number.isFinite(seconds) ? seconds * 1000 : 1000 };
      }
      // Not preparable any more (the previous response deleted, say): #jobFailed stores it failed.
      if (!prepared) throw error;
      this.log.warn({ err: error, response_id: prepared.id }, 'background response failed');
      await prepared.fail(prepared.encoder.failed(failure, 'failed'));
      return this.#settled(job, {
        status: 'failed',
        result: { code: failure.code, message: failure.message },
      });
    }
  }

  /** A job's outcome, its retry count forgotten. */
  #settled(job: ClaimedJob, outcome: JobOutcome): JobOutcome {
    this.#retries.delete(job.id);
    return outcome;
  }

  /**
   * A durable response that could not be run (its request no longer prepares: the previous
   * response was deleted, say), or whose runner stopped `maxAttempts` times: stored failed.
   */
  async #jobFailed(job: ClaimedJob, error: unknown): Promise<unknown> {
    const { response_id: id } = job.payload as ResponseJob;
    const message =
      error === undefined
        ? `The server stopped ${job.attempts - 1} times while running this response (killed or crashed); it was not run again. Create it again.`
        : apiErrorOf(error).message;
    if (error !== undefined)
      this.log.warn({ err: error, response_id: id }, 'background response failed');
    const store = this.state.current();
    const stored = await store.responses.get(id);
    if (stored) {
      const code = error === undefined ? 'server_error' : apiErrorOf(error).code;
      await store.responses.markFailed(id, {
        body: endedBody(stored.body, 'failed', Date.now(), { code, message }),
        at: Date.now(),
      });
    }
    return { message };
  }

  async #run(run: Run, attributes: Attributes): Promise<void> {
    const { prepared, abort } = run;
    const { encoder } = prepared;
    const push = (events: string[]) => {
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
