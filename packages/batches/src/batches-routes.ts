import type { Store, StoredBatch } from '@hrserve/store';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import {
  ApiError,
  errorCatalogue,
  type FastifyInstance,
  listBody,
  pageRequestOf,
  parseRequest,
} from 'hrserve';
import { isRunning, newBatchBody, toBatchObject, withStatus } from './batch-object.js';
import { batchCreateSchema, COMPLETION_WINDOW_MS } from './batch-request.js';
import type { BatchSteps } from './batch-steps.js';
import { BatchNotCancellableError, BatchNotFoundError } from './errors.js';
import { fileOf } from './files-routes.js';
import { idParams, newId } from './ids.js';
import { traceParentOf } from './line-executor.js';

export interface BatchesRoutesOptions {
  store: () => Store;
  steps: BatchSteps;
  /** The endpoints this service runs batches for. */
  endpoints: readonly string[];
  owner: string;
  leaseMs: number;
  tracer: Tracer;
  /** A batch was cancelled here: its lines running in this process stop now. */
  onCancelled(batchId: string): void;
}

/**
 * The Batch API (https://platform.openai.com/docs/api-reference/batch): create from an
 * uploaded JSONL file, retrieve, list, cancel. A batch is answered `validating` at once;
 * the runner validates it, runs its lines and writes its output files.
 */
export async function batchesRoutes(app: FastifyInstance, options: BatchesRoutesOptions) {
  const { store, steps, endpoints, owner, leaseMs, tracer, onCancelled } = options;

  /** The Batch object with live counts while its lines run. */
  const present = async (batch: StoredBatch) =>
    toBatchObject(batch, isRunning(batch.status) ? await store().jobs.counts(batch.id) : undefined);

  app.post('/v1/batches', async (request) => {
    const body = parseRequest(batchCreateSchema, request.body);
    if (!endpoints.includes(body.endpoint)) {
      throw new ApiError(
        errorCatalogue.invalidRequest,
        `This service runs batches for ${endpoints.join(', ')}, not ${body.endpoint}.`,
        { param: 'endpoint' },
      );
    }
    const file = await fileOf(store(), body.input_file_id, 'input_file_id');
    if (file.purpose !== 'batch') {
      throw new ApiError(
        errorCatalogue.invalidRequest,
        `File ${file.id} was uploaded with purpose "${file.purpose}"; a batch's input is uploaded with purpose "batch".`,
        { param: 'input_file_id' },
      );
    }
    const id = newId('batch_');
    const createdAt = Date.now();
    const span = tracer.startSpan(`batch ${id}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        'batch.id': id,
        client_job_id: id,
        'batch.endpoint': body.endpoint,
        'batch.input_file_id': file.id,
        'batch.input_lines': file.lines,
      },
    });
    let batch: StoredBatch;
    try {
      batch = await store().batches.create(
        {
          id,
          status: 'validating',
          createdAt,
          expiresAt: createdAt + COMPLETION_WINDOW_MS,
          traceParent: traceParentOf(span),
          body: newBatchBody({
            id,
            endpoint: body.endpoint,
            inputFileId: file.id,
            completionWindow: body.completion_window,
            metadata: body.metadata ?? null,
            createdAt,
            expiresAt: createdAt + COMPLETION_WINDOW_MS,
          }),
        },
        { owner, until: createdAt + leaseMs },
      );
    } catch (error) {
      span.end();
      throw error;
    }
    request.log.info({ batch_id: id, lines: file.lines }, 'batch created');
    void steps.validateNew(batch, span);
    return toBatchObject(batch);
  });

  app.get('/v1/batches', async (request) => {
    const page = await store().batches.list(pageRequestOf(request.query));
    return { ...listBody(page), data: await Promise.all(page.data.map(present)) };
  });

  app.get('/v1/batches/:id', async (request) => {
    const { id } = parseRequest(idParams, request.params, 'path');
    const batch = await store().batches.get(id);
    if (!batch) throw new BatchNotFoundError(id);
    return present(batch);
  });

  app.post('/v1/batches/:id/cancel', async (request) => {
    const { id } = parseRequest(idParams, request.params, 'path');
    const batch = await store().batches.get(id);
    if (!batch) throw new BatchNotFoundError(id);
    // Cancelling twice is no error: the batch is on its way.
    if (batch.status === 'cancelling') return present(batch);
    if (batch.status !== 'validating' && batch.status !== 'in_progress') {
      throw new BatchNotCancellableError(id, batch.status);
    }
    const cancelled = await store().batches.cancel(
      id,
      withStatus(batch.body, 'cancelling', Date.now()),
      Date.now(),
    );
    if (!cancelled) {
      // It moved on meanwhile (finished, or cancelled by another request).
      const now = await store().batches.get(id);
      if (now?.status === 'cancelling') return present(now);
      throw new BatchNotCancellableError(id, now?.status ?? batch.status);
    }
    request.log.info({ batch_id: id }, 'batch cancelled');
    onCancelled(id);
    steps.wake();
    return present(cancelled);
  });
}
