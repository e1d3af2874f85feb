export type { Backend } from './backend.js';
export {
  BatchesRepository,
  type BatchStatus,
  type Lease,
  type StoredBatch,
} from './batches.js';
export {
  ConversationsRepository,
  type Metadata,
  type NewConversation,
  type StoredConversation,
} from './conversations.js';
export { serviceDataDir } from './data-dir.js';
export { MigrationError, StoreConflictError, UnknownCursorError } from './errors.js';
export { classifyFault, type StoreFault, StoreUnavailableError } from './faults.js';
export { FilesRepository, type StoredFile } from './files.js';
export type { ItemInput, JsonObject, StoredItem } from './items.js';
export {
  type ClaimedJob,
  type FinishedJob,
  type JobCounts,
  type JobStatus,
  JobsRepository,
  type NewJob,
} from './jobs.js';
export type {
  PostgresOptions,
  RetentionOptions,
  SqliteOptions,
  StoreLogger,
  StoreOptions,
} from './options.js';
export { MAX_PAGE_SIZE, type Page, type PageRequest } from './pagination.js';
export {
  type ChainedResponse,
  type NewResponse,
  type ResponseOutcome,
  type ResponseStatus,
  ResponsesRepository,
  type StoredResponse,
} from './responses.js';
export type { PruneResult } from './retention.js';
export { storeSettings } from './settings.js';
export { SQLITE_FILE } from './sqlite/open-sqlite.js';
export {
  StateStore,
  type StateStoreLogger,
  type StoreHealth,
  StoreNotReadyError,
} from './state-store.js';
export { openStore, type Store } from './store.js';
