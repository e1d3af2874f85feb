export {
  BatchApi,
  type BatchApiOptions,
  type BatchProgress,
  batchOptionsOf,
  runnerOwner,
} from './batch-api.js';
export { BATCH_QUEUE } from './batch-steps.js';
export {
  BatchNotCancellableError,
  BatchNotFoundError,
  batchApiError,
  batchErrors,
  FileNotFoundError,
  FileTooLargeError,
  TooManyLinesError,
} from './errors.js';
export { FileStorage, type FileWriter, type SavedFile, type UploadLimits } from './file-storage.js';
export type { BodyCheck } from './input-validation.js';
export { type JobOutcome, JobRunner, type JobRunnerOptions } from './job-runner.js';
export { type BatchSettings, batchSettings } from './settings.js';
