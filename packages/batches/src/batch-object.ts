import type { BatchStatus, JobCounts, JsonObject, StoredBatch } from '@hrserve/store';

/** One entry of a batch's `errors.data` (openai's `BatchError`). */
export interface BatchError {
  code: string;
  line: number | null;
  message: string;
  param: string | null;
}

export interface RequestCounts {
  total: number;
  completed: number;
  failed: number;
}

/** The Batch object as first stored: validating, nothing counted yet. */
export function newBatchBody(fields: {
  id: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  createdAt: number;
  expiresAt: number;
}): JsonObject {
  return {
    id: fields.id,
    object: 'batch',
    endpoint: fields.endpoint,
    errors: null,
    input_file_id: fields.inputFileId,
    completion_window: fields.completionWindow,
    status: 'validating',
    output_file_id: null,
    error_file_id: null,
    created_at: seconds(fields.createdAt),
    in_progress_at: null,
    expires_at: seconds(fields.expiresAt),
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata: fields.metadata,
  };
}

/** The body moved to `status`, stamped with that status's `<status>_at`. */
export function withStatus(
  body: JsonObject,
  status: BatchStatus,
  at: number,
  extra: JsonObject = {},
) {
  return { ...body, status, [`${status}_at`]: seconds(at), ...extra };
}

/** Live counts of a running batch's lines, as the API reports them. */
export function requestCounts(counts: JobCounts): RequestCounts {
  return { total: counts.total, completed: counts.succeeded, failed: counts.failed };
}

/**
 * The Batch object a client is shown: the stored body, with the live request counts of a
 * batch whose lines are running (a finished batch's final counts are stored).
 */
export function toBatchObject(batch: StoredBatch, live?: JobCounts): JsonObject {
  return live ? { ...batch.body, request_counts: requestCounts(live) } : batch.body;
}

/** Whether a batch's lines may be running (its counts are read live). */
export function isRunning(status: BatchStatus): boolean {
  return status === 'in_progress' || status === 'finalizing' || status === 'cancelling';
}

export function isFinished(status: BatchStatus): boolean {
  return ['completed', 'failed', 'expired', 'cancelled'].includes(status);
}

export function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}
