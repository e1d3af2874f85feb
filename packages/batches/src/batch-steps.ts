import type { JsonObject, Lease, NewJob, Store, StoredBatch, StoredFile } from '@hrserve/store';
import { type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { type BatchError, requestCounts, seconds, withStatus } from './batch-object.js';
import type { FileStorage, FileWriter, SavedFile } from './file-storage.js';
import { newId } from './ids.js';
import { type BodyCheck, validateBatchInput } from './input-validation.js';
import { type LinePayload, linkTo } from './line-executor.js';
import type { BatchMetrics } from './metrics.js';
import { RateLimitedWarning, Waker } from './waker.js';

/** The job queue batch lines run from. */
export const BATCH_QUEUE = 'batch';

/** Finished lines read per query while the output files are written. */
const PAGE = 500;

export interface BatchStepsOptions {
  store: () => Store;
  storage: FileStorage;
  /** The endpoints this service runs batches for, each with its body check. */
  endpoints: Readonly<Record<string, BodyCheck>>;
  owner: string;
  leaseMs: number;
  pollMs: number;
  tracer: Tracer;
  metrics: BatchMetrics;
  log: {
    warn(object: Record<string, unknown>, message: string): void;
    error(object: Record<string, unknown>, message: string): void;
  };
  /** A batch's lines were queued: the line runner should look now. */
  onQueued(): void;
  /** A batch expired: its lines running in this process stop now. */
  onExpired(batchId: string): void;
}

type FinalStatus = 'completed' | 'cancelled' | 'expired';

/**
 * The steps that move a batch along, each taken by one runner under the batch's lease:
 * validating (the whole file checked, then every line queued at once), finalizing (the
 * finished lines written to the output and error files, the batch completed), cancelling
 * and expiring (what finished is written, the rest dropped). A runner that stops mid-step
 * leaves it to the next whose claim finds the lease run out.
 */
export class BatchSteps {
  readonly #options: BatchStepsOptions;
  #loop: Promise<void> | undefined;
  readonly #waker = new Waker();
  readonly #warning: RateLimitedWarning;
  #stopping = false;
  readonly #validations = new Set<Promise<void>>();

  constructor(options: BatchStepsOptions) {
    this.#options = options;
    this.#warning = new RateLimitedWarning(options.log);
  }

  start(): void {
    this.#loop ??= this.#stepLoop();
  }

  wake(): void {
    this.#waker.wake();
  }

  /** Stops taking steps; waits for the one under way and the validations started here. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    await Promise.all(this.#validations);
  }

  /** Validates a batch just created here (leased to this runner), ending its span. */
  validateNew(batch: StoredBatch, span: Span): Promise<void> {
    const validation = this.#validateNew(batch, span).finally(() =>
      this.#validations.delete(validation),
    );
    this.#validations.add(validation);
    return validation;
  }

  async #validateNew(batch: StoredBatch, span: Span): Promise<void> {
    try {
      const status = await this.#withLease(batch.id, () => this.#validate(batch));
      span.setAttribute('batch.status', status);
      if (status === 'failed')
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'invalid input' });
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      // The lease runs out and a step claim validates it again.
      this.#warning.warn(error, `validating batch ${batch.id} failed; it will be tried again`);
    } finally {
      span.end();
    }
  }

  async #stepLoop(): Promise<void> {
    const { owner, leaseMs, pollMs } = this.#options;
    let resumed = false;
    while (!this.#stopping) {
      if (!resumed) {
        try {
          // One process uses a SQLite store: a step lease it finds was a killed run's.
          const store = this.#options.store();
          if (store.backend === 'sqlite') await store.batches.releaseLeases();
          resumed = true;
        } catch (error) {
          this.#warning.warn(error, 'freeing the steps of a killed run failed; trying again');
          await this.#waker.sleep(pollMs * 5);
          continue;
        }
      }
      let batch: StoredBatch | undefined;
      try {
        batch = await this.#options
          .store()
          .batches.claimStep({ owner, until: Date.now() + leaseMs }, Date.now());
      } catch (error) {
        this.#warning.warn(error, 'looking for batch steps failed; trying again');
        await this.#waker.sleep(pollMs * 5);
        continue;
      }
      if (!batch) {
        await this.#waker.sleep(pollMs);
        continue;
      }
      try {
        await this.#withLease(batch.id, () => this.#take(batch));
      } catch (error) {
        this.#warning.warn(error, `a step of batch ${batch.id} failed; it will be tried again`);
      } finally {
        // A step that moved nothing (another runner did) leaves no lease behind.
        await this.#options
          .store()
          .batches.releaseLease(batch.id, owner)
          .catch(() => {});
      }
    }
  }

  async #take(batch: StoredBatch): Promise<unknown> {
    const store = this.#options.store();
    const now = Date.now();
    switch (batch.status) {
      case 'validating':
        return this.#validate(batch);
      case 'in_progress': {
        const counts = await store.jobs.counts(batch.id);
        const unfinished = counts.queued + counts.running;
        if (unfinished > 0 && batch.expiresAt < now) {
          // Its window is over: what finished is written, the rest dropped.
          const body = withStatus(batch.body, 'finalizing', now, { expired_at: seconds(now) });
          if (await store.batches.expire(batch.id, this.#options.owner, body, now)) {
            this.#options.onExpired(batch.id);
            return this.#finalize({ ...batch, body }, 'expired');
          }
          return undefined;
        }
        // Lines still to run (taken while they were being queued): not a step after all.
        if (unfinished > 0) return undefined;
        const body = withStatus(batch.body, 'finalizing', now);
        const moved = await store.batches.transition(
          batch.id,
          ['in_progress'],
          { status: 'finalizing', body },
          { owner: this.#options.owner, keepLease: true },
        );
        return moved && this.#finalize(moved, 'completed');
      }
      case 'finalizing':
        // Resumed after a stop: an expiring batch was stamped expired_at as its window ended.
        return this.#finalize(batch, batch.body.expired_at ? 'expired' : 'completed');
      case 'cancelling':
        return this.#finalize(batch, 'cancelled');
      default:
        return undefined;
    }
  }

  /** Checks the whole input, then queues every line at once; or fails the batch naming the lines. */
  async #validate(batch: StoredBatch): Promise<'in_progress' | 'failed' | 'lost'> {
    const { store: storeOf, storage, endpoints, owner } = this.#options;
    const store = storeOf();
    const endpoint = String(batch.body.endpoint);
    const inputFileId = String(batch.body.input_file_id);
    const check = endpoints[endpoint];
    const file = check ? await store.files.get(inputFileId) : undefined;
    const content = file && (await storage.read(file.storedName));
    let result: Awaited<ReturnType<typeof validateBatchInput>>;
    if (!check) {
      result = {
        errors: [inputError('unsupported_endpoint', `This service does not run ${endpoint}.`)],
      };
    } else if (!file) {
      result = {
        errors: [
          inputError(
            'file_not_found',
            `The input file ${inputFileId} was deleted before the batch was validated.`,
          ),
        ],
      };
    } else if (!content) {
      result = {
        errors: [
          inputError(
            'file_content_missing',
            `The content of input file ${inputFileId} is not in this server's files directory.`,
          ),
        ],
      };
    } else {
      result = await validateBatchInput(content, endpoint, check);
    }
    const now = Date.now();
    if ('errors' in result) {
      const failed = await store.batches.transition(
        batch.id,
        ['validating'],
        {
          status: 'failed',
          body: withStatus(batch.body, 'failed', now, {
            errors: { object: 'list', data: result.errors } as unknown as JsonObject,
          }),
        },
        { owner },
      );
      if (!failed) return 'lost';
      this.#options.metrics.batchFinished('failed');
      return 'failed';
    }
    const jobs: NewJob[] = result.lines.map((line, index) => {
      const payload: LinePayload = {
        batch_id: batch.id,
        url: endpoint,
        custom_id: line.customId,
        line: line.line,
        body: line.body,
        trace_parent: batch.traceParent,
      };
      return {
        id: `${batch.id}:${index}`,
        queue: BATCH_QUEUE,
        groupId: batch.id,
        position: index,
        payload,
      };
    });
    const body = withStatus(batch.body, 'in_progress', now, {
      request_counts: { total: jobs.length, completed: 0, failed: 0 },
    });
    if (!(await store.batches.start(batch.id, owner, jobs, body, now))) return 'lost';
    this.#options.onQueued();
    return 'in_progress';
  }

  /**
   * Writes the finished lines to the output file (2xx answers) and the error file (the
   * rest), then records the files and the final status in one transaction. A write that
   * fails (a full disk) fails the batch and leaves no partial file.
   */
  async #finalize(batch: StoredBatch, final: FinalStatus): Promise<void> {
    const { store: storeOf, storage, owner, tracer } = this.#options;
    const store = storeOf();
    const link = linkTo(batch.traceParent);
    const span = tracer.startSpan(`batch finalize ${batch.id}`, {
      attributes: { 'batch.id': batch.id, client_job_id: batch.id, 'batch.status': final },
      ...(link ? { links: [link] } : {}),
    });
    try {
      const counts = await store.jobs.counts(batch.id);
      const totals = requestCounts(counts);
      span.setAttributes({
        'batch.requests.total': totals.total,
        'batch.requests.completed': totals.completed,
        'batch.requests.failed': totals.failed,
      });
      let written: { output: SavedFile; errors: SavedFile; usage: Usage };
      try {
        written = await this.#writeOutputs(store, batch.id);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'output write failed' });
        this.#options.log.error(
          { err: error, batch_id: batch.id },
          "writing a batch's output failed; the batch is failed",
        );
        const now = Date.now();
        const body = withStatus(batch.body, 'failed', now, {
          request_counts: totals as unknown as JsonObject,
          errors: {
            object: 'list',
            data: [
              inputError(
                'output_write_failed',
                `The batch's output could not be written (${describeWriteError(error)}); its results are lost. Free space in the service's files directory and run the batch again.`,
              ),
            ],
          } as unknown as JsonObject,
        });
        if (await store.batches.finish(batch.id, owner, { status: 'failed', body, files: [] })) {
          this.#options.metrics.batchFinished('failed');
        }
        return;
      }
      const now = Date.now();
      const files: StoredFile[] = [];
      const fileOf = (saved: SavedFile, kind: 'output' | 'error'): StoredFile => ({
        id: newId('file-'),
        purpose: 'batch_output',
        filename: `${batch.id}_${kind}.jsonl`,
        bytes: saved.bytes,
        lines: saved.lines,
        createdAt: now,
        expiresAt: null,
        storedName: saved.storedName,
      });
      const output = written.output.lines > 0 ? fileOf(written.output, 'output') : undefined;
      const errors = written.errors.lines > 0 ? fileOf(written.errors, 'error') : undefined;
      if (output) files.push(output);
      else await storage.remove(written.output.storedName);
      if (errors) files.push(errors);
      else await storage.remove(written.errors.storedName);
      const body = withStatus(batch.body, final, now, {
        output_file_id: output?.id ?? null,
        error_file_id: errors?.id ?? null,
        request_counts: totals as unknown as JsonObject,
        usage: written.usage as unknown as JsonObject,
      });
      if (await store.batches.finish(batch.id, owner, { status: final, body, files })) {
        this.#options.metrics.batchFinished(final);
      } else {
        // Another runner took the step over: its files are the batch's, these go.
        for (const file of files) await storage.remove(file.storedName);
      }
    } finally {
      span.end();
    }
  }

  async #writeOutputs(store: Store, batchId: string) {
    const { storage } = this.#options;
    const writers: FileWriter[] = [];
    try {
      const output = await storage.writer();
      writers.push(output);
      const errors = await storage.writer();
      writers.push(errors);
      const usage = emptyUsage();
      for (let after = -1; ; ) {
        const page = await store.jobs.finished(batchId, after, PAGE);
        for (const job of page) {
          if (job.status === 'succeeded') {
            addUsage(usage, job.result);
            await output.writeLine(JSON.stringify(job.result));
          } else {
            await errors.writeLine(JSON.stringify(job.result));
          }
        }
        if (page.length < PAGE) break;
        after = page.at(-1)?.position ?? after;
      }
      return { output: await output.commit(), errors: await errors.commit(), usage };
    } catch (error) {
      await Promise.all(writers.map((writer) => writer.abort()));
      throw error;
    }
  }

  /** Runs a step while renewing its lease; a lease that cannot be renewed is left to run out. */
  async #withLease<T>(batchId: string, step: () => Promise<T>): Promise<T> {
    const { owner, leaseMs } = this.#options;
    const renew = setInterval(() => {
      const lease: Lease = { owner, until: Date.now() + leaseMs };
      const failed = (error: unknown) =>
        this.#warning.warn(error, `renewing batch ${batchId}'s lease failed`);
      try {
        // store() throws at once when the store is closed: no exception may leave a timer.
        this.#options.store().batches.renew(batchId, lease).catch(failed);
      } catch (error) {
        failed(error);
      }
    }, leaseMs / 3);
    renew.unref();
    try {
      return await step();
    } finally {
      clearInterval(renew);
    }
  }
}

function inputError(code: string, message: string): BatchError {
  return { code, line: null, message, param: null };
}

/** A write error's cause in words, without the path. */
function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EDQUOT') return 'the disk quota is exceeded';
  if (code === 'EACCES' || code === 'EPERM') return 'the files directory is not writable';
  return code ?? 'an I/O error';
}

interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

function emptyUsage(): Usage {
  return {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  };
}

/** Adds an answer's usage, whichever API's names it uses (chat, completions, responses, embeddings). */
function addUsage(usage: Usage, result: unknown): void {
  const body = (result as { response?: { body?: { usage?: Record<string, unknown> } } }).response
    ?.body;
  const answer = body?.usage;
  if (!answer) return;
  const number = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) ? value : 0;
  const input = number(answer.prompt_tokens ?? answer.input_tokens);
  const output = number(answer.completion_tokens ?? answer.output_tokens);
  const cached = number(
    (answer.prompt_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens ??
      (answer.input_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens,
  );
  usage.input_tokens += input;
  usage.output_tokens += output;
  usage.input_tokens_details.cached_tokens += cached;
  usage.total_tokens += number(answer.total_tokens) || input + output;
}
