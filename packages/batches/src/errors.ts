import { StoreNotReadyError, StoreUnavailableError, UnknownCursorError } from '@hrserve/store';
import { ApiError, defineError, errorCatalogue } from 'hrserve';

/** The batch API's own errors besides the runtime's (`errorCatalogue`). */
export const batchErrors = {
  tooManyLines: defineError('too_many_lines', 400, 'invalid_request_error'),
  notCancellable: defineError('batch_not_cancellable', 409, 'invalid_request_error'),
  fileMissing: defineError('file_content_missing', 410, 'invalid_request_error'),
  storeUnavailable: defineError('store_unavailable', 503, 'server_error'),
} as const;

/** No file with this id is stored (never was, or was deleted). */
export class FileNotFoundError extends Error {
  override readonly name = 'FileNotFoundError';

  constructor(
    readonly id: string,
    readonly param: string | null = null,
  ) {
    super(
      `No file with id ${JSON.stringify(id)}: upload it with POST /v1/files, or list them with GET /v1/files.`,
    );
  }
}

/** No batch with this id is stored. */
export class BatchNotFoundError extends Error {
  override readonly name = 'BatchNotFoundError';

  constructor(readonly id: string) {
    super(`No batch with id ${JSON.stringify(id)}: list them with GET /v1/batches.`);
  }
}

/** An upload over the size limit (nothing of it is kept). */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';

  constructor(
    readonly limitBytes: number,
    readonly setting: string,
  ) {
    super(
      `The file is over this server's limit of ${limitBytes} bytes; split it into several batches, or raise ${setting}.`,
    );
  }
}

/** An upload with more lines than a batch may have (nothing of it is kept). */
export class TooManyLinesError extends Error {
  override readonly name = 'TooManyLinesError';

  constructor(
    readonly lines: number,
    readonly limit: number,
    readonly setting: string,
  ) {
    super(
      `The file has ${lines} lines, over this server's limit of ${limit} requests per batch; split it into several batches, or raise ${setting}.`,
    );
  }
}

/** Cancelling a batch that has finished (or is finishing). */
export class BatchNotCancellableError extends Error {
  override readonly name = 'BatchNotCancellableError';

  constructor(
    readonly id: string,
    readonly status: string,
  ) {
    super(`Batch ${id} is ${status}: only a validating or in-progress batch can be cancelled.`);
  }
}

/** A file's metadata is stored but its bytes are not in this host's files directory. */
export class FileContentMissingError extends Error {
  override readonly name = 'FileContentMissingError';

  constructor(readonly id: string) {
    super(
      `The content of file ${id} is not in this server's files directory (deleted by hand, or written by an instance on another host: instances sharing a database must share the files directory).`,
    );
  }
}

/** Seconds a client is told to wait for the store. */
const STORE_RETRY_AFTER_SECONDS = '5';

/** The batch API's domain errors as the API errors clients are told; undefined for others. */
export function batchApiError(error: unknown): ApiError | undefined {
  if (error instanceof FileNotFoundError) {
    return new ApiError(errorCatalogue.notFound, error.message, { param: error.param });
  }
  if (error instanceof BatchNotFoundError) {
    return new ApiError(errorCatalogue.notFound, error.message);
  }
  if (error instanceof FileTooLargeError) {
    return new ApiError(errorCatalogue.payloadTooLarge, error.message, { param: 'file' });
  }
  if (error instanceof TooManyLinesError) {
    return new ApiError(batchErrors.tooManyLines, error.message, { param: 'file' });
  }
  if (error instanceof BatchNotCancellableError) {
    return new ApiError(batchErrors.notCancellable, error.message);
  }
  if (error instanceof FileContentMissingError) {
    return new ApiError(batchErrors.fileMissing, error.message);
  }
  if (error instanceof StoreUnavailableError || error instanceof StoreNotReadyError) {
    return new ApiError(
      batchErrors.storeUnavailable,
      `The store is unavailable (${error.fault}); files and batches are kept there. Retry shortly.`,
      { headers: { 'retry-after': STORE_RETRY_AFTER_SECONDS } },
    );
  }
  if (error instanceof UnknownCursorError) {
    return new ApiError(
      errorCatalogue.invalidRequest,
      `${error.message}; leave 'after' out to start at the first page.`,
      { param: 'after' },
    );
  }
  return undefined;
}
