import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { StateStore } from '@hrserve/store';
import type { Tracer } from '@opentelemetry/api';
import { type FastifyInstance, mapErrorsWith } from 'hrserve';
import { BATCH_QUEUE, BatchSteps } from './batch-steps.js';
import { batchesRoutes } from './batches-routes.js';
import { batchApiError } from './errors.js';
import { FileStorage } from './file-storage.js';
import { filesRoutes } from './files-routes.js';
import type { BodyCheck } from './input-validation.js';
import { JobRunner } from './job-runner.js';
import { executeLine, type LinePayload, lineFailure } from './line-executor.js';
import { BatchMetrics } from './metrics.js';
import type { BatchSettings } from './settings.js';

export interface BatchApiOptions {
  /** The service's name, in lease owners (logs and the jobs table say who ran what). */
  service: string;
  /** The service's store, which opens in the background: batches run once it is open. */
  state: StateStore;
  /** Where uploaded and produced files are kept (`$DATA_DIR/files`). */
  filesDir: string;
  /** The files' storage, when not the default one in `filesDir` (tests choose its names). */
  storage?: FileStorage;
  /** The endpoints this service runs batches for, each with the check its route makes of a body. */
  endpoints: Readonly<Record<string, BodyCheck>>;
  limits: {
    /** Largest upload, in bytes. */
    maxFileBytes: number;
    /** Most requests in one batch file. */
    maxLines: number;
    /** The settings that raise them (named in the errors). */
    bytesSetting: string;
    linesSetting: string;
  };
  /** Lines run at once by this process: at least the engine's sequences, so none sits idle. */
  concurrency: number;
  /** Milliseconds a claim holds without renewal. Defaults to 30000. */
  leaseMs?: number;
  /** Milliseconds between an idle runner's looks for work. Defaults to 1000. */
  pollMs?: number;
  /** Claims a line gets before it is failed (its runner died each time). Defaults to 3. */
  maxAttempts?: number;
  tracer: Tracer;
  /** Files in the owner id, for tests that simulate several hosts. */
  owner?: string;
}

/**
 * The options a service's parsed settings give (`batchSettings`): files in `FILES_DIR` or
 * `$DATA_DIR/files`, the limits named by their settings, the lease.
 */
export function batchOptionsOf(
  settings: BatchSettings & { DATA_DIR: string },
  defaultConcurrency: number,
): Pick<BatchApiOptions, 'filesDir' | 'limits' | 'concurrency' | 'leaseMs'> {
  return {
    filesDir: settings.FILES_DIR ?? join(settings.DATA_DIR, 'files'),
    limits: {
      maxFileBytes: settings.FILES_MAX_BYTES,
      maxLines: settings.BATCH_MAX_LINES,
      bytesSetting: 'FILES_MAX_BYTES',
      linesSetting: 'BATCH_MAX_LINES',
    },
    concurrency: settings.BATCH_CONCURRENCY ?? defaultConcurrency,
    leaseMs: settings.BATCH_LEASE,
  };
}

/** A lease owner unique to this process: the service, host, pid and a random part. */
export function runnerOwner(service: string): string {
  return `${service}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Times a busy service (429, 503) is asked again for one line before its answer is kept. */
const MAX_RETRIES = 30;

/** One batch's progress, as /health shows it. */
export interface BatchProgress {
  id: string;
  status: string;
  endpoint: string;
  total: number;
  completed: number;
  failed: number;
}

/**
 * The Files and Batch APIs on one service: the routes, the line runner and the step runner.
 * `registerBatchApi` registers the routes; `start` (once the app is ready) begins running
 * batches; `close` (in the service's onClose, before its engine closes) stops, giving
 * running lines back to the queue.
 */
export class BatchApi {
  readonly owner: string;
  readonly #options: BatchApiOptions;
  readonly #runner: JobRunner;
  readonly #steps: BatchSteps;
  readonly #storage: FileStorage;
  #progress: BatchProgress[] = [];
  #progressTimer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #stopping = false;
  readonly #closing = Promise.withResolvers<undefined>();

  private constructor(app: FastifyInstance, options: BatchApiOptions) {
    this.#options = options;
    this.owner = options.owner ?? runnerOwner(options.service);
    const leaseMs = options.leaseMs ?? 30_000;
    const pollMs = options.pollMs ?? 1_000;
    this.#storage = options.storage ?? new FileStorage(options.filesDir);
    const metrics = new BatchMetrics(app.metrics, () => this.#runner.running);
    const retries = new Map<string, number>();
    this.#steps = new BatchSteps({
      store: () => options.state.current(),
      storage: this.#storage,
      endpoints: options.endpoints,
      owner: this.owner,
      leaseMs,
      pollMs,
      tracer: options.tracer,
      metrics,
      log: app.log,
      onQueued: () => this.#runner.wake(),
      onExpired: (batchId) => this.#runner.abortGroup(batchId),
    });
    this.#runner = new JobRunner({
      queue: BATCH_QUEUE,
      owner: this.owner,
      concurrency: options.concurrency,
      leaseMs,
      pollMs,
      maxAttempts: options.maxAttempts ?? 3,
      jobs: () => options.state.current().jobs,
      run: async (job, signal) => {
        const payload = job.payload as LinePayload;
        const answer = await executeLine(app, options.tracer, payload, { signal });
        if (signal.aborted) {
          // Stopped here (shutdown, cancel, expiry): the runner decides what happens to it.
          retries.delete(job.id);
          metrics.line('released');
          return { status: 'retry', afterMs: 0 };
        }
        if (answer.preempted) {
          metrics.line('preempted');
          return { status: 'retry', afterMs: 0 };
        }
        if (answer.retryAfterMs !== undefined) {
          const tries = (retries.get(job.id) ?? 0) + 1;
          if (tries <= MAX_RETRIES) {
            retries.set(job.id, tries);
            metrics.line('retried');
            return { status: 'retry', afterMs: answer.retryAfterMs };
          }
        }
        retries.delete(job.id);
        const status = answer.output.response?.status_code ?? 500;
        const outcome = status >= 200 && status < 300 ? 'succeeded' : 'failed';
        metrics.line(outcome);
        return { status: outcome, result: answer.output };
      },
      failure: (job, error) => {
        metrics.line('failed');
        const payload = job.payload as LinePayload;
        if (error === undefined) {
          return lineFailure(
            payload,
            'attempts_exhausted',
            `The line's runner stopped ${job.attempts - 1} times while running it (killed or crashed); it was not run again.`,
          );
        }
        app.log.error(
          { err: error, batch_id: payload.batch_id, line: payload.line },
          'a batch line failed',
        );
        return lineFailure(
          payload,
          'line_failed',
          'The line could not be run (an internal error; see the service log).',
        );
      },
      onFinished: () => this.#steps.wake(),
      log: app.log,
    });
  }

  /** Registers /v1/files and /v1/batches on `app`; call `start()` once the app is ready. */
  static async register(app: FastifyInstance, options: BatchApiOptions): Promise<BatchApi> {
    const api = new BatchApi(app, options);
    const limits = {
      maxBytes: options.limits.maxFileBytes,
      maxLines: options.limits.maxLines,
      bytesSetting: options.limits.bytesSetting,
      linesSetting: options.limits.linesSetting,
    };
    await app.register(async (scope) => {
      mapErrorsWith(scope, batchApiError);
      const store = () => options.state.current();
      await scope.register(filesRoutes, { store, storage: api.#storage, limits });
      await scope.register(batchesRoutes, {
        store,
        steps: api.#steps,
        endpoints: Object.keys(options.endpoints),
        owner: api.owner,
        leaseMs: options.leaseMs ?? 30_000,
        tracer: options.tracer,
        onCancelled: (batchId) => api.#runner.abortGroup(batchId),
      });
    });
    app.health.addDetail('batches', () => ({
      running_lines: api.#runner.running,
      unfinished: api.#progress,
    }));
    return api;
  }

  /** Begins running batches once the store is open (resolves then). */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  /** Stops running batches: lines running here go back to the queue for the next run. */
  async close(): Promise<void> {
    this.#stopping = true;
    // A start still waiting for the store (a database down) stops waiting.
    this.#closing.resolve(undefined);
    // A start that failed was reported by its caller; the rest of the shutdown goes on.
    await this.#started?.catch(() => {});
    clearInterval(this.#progressTimer);
    await Promise.all([this.#runner.stop(), this.#steps.stop()]);
  }

  async #start(): Promise<void> {
    await this.#storage.ensure();
    // The runners give back what a killed run held (SQLite) as they start.
    const store = await Promise.race([this.#options.state.whenOpen(), this.#closing.promise]);
    if (!store || this.#stopping) return;
    this.#runner.start();
    this.#steps.start();
    this.#progressTimer = setInterval(() => void this.#refreshProgress(), 2_000);
    this.#progressTimer.unref();
    void this.#refreshProgress();
  }

  async #refreshProgress(): Promise<void> {
    try {
      const store = this.#options.state.current();
      const unfinished = await store.batches.listUnfinished(10);
      this.#progress = await Promise.all(
        unfinished.map(async (batch) => {
          const counts = await store.jobs.counts(batch.id);
          return {
            id: batch.id,
            status: batch.status,
            endpoint: String(batch.body.endpoint),
            total: counts.total,
            completed: counts.succeeded,
            failed: counts.failed,
          };
        }),
      );
    } catch {
      // /health keeps the last progress; the store's own state is in its `store` detail.
    }
  }
}
