/**
 * What a service passes to `openStore`. Every field comes from the service's typed config;
 * the store reads no environment variable itself.
 */
export interface StoreOptions {
  /**
   * The service's name (`llmchat`): Postgres shows it as the connections' `application_name`
   * (`hrserve-<service>`).
   */
  service: string;
  /**
   * A PostgreSQL URL (`postgres://user:password@host:5432/database`). When given, the store
   * keeps its state there, shared by every instance that uses the same URL; the service's
   * config reads it from `DATABASE_URL`. When absent, the store is SQLite in `dataDir`.
   */
  databaseUrl?: string | undefined;
  /**
   * The directory of the SQLite database (`store.sqlite` and its WAL), created with mode 0700
   * when missing; see `serviceDataDir()`. Required when `databaseUrl` is absent.
   */
  dataDir?: string | undefined;
  /** How long and how many responses are kept. Defaults to keeping everything. */
  retention?: RetentionOptions | undefined;
  sqlite?: SqliteOptions | undefined;
  postgres?: PostgresOptions | undefined;
  /** Where background failures (pruning, a dropped idle connection) are reported. */
  logger?: StoreLogger | undefined;
}

export interface RetentionOptions {
  /**
   * Milliseconds a response is kept after its creation, whatever its status (RESPONSES_TTL).
   * `undefined` or 0: no age limit.
   */
  ttlMs?: number | undefined;
  /**
   * The most responses kept; beyond it the oldest finished ones are deleted (queued and
   * in-progress ones only by age). `undefined` or 0: no count limit.
   */
  maxResponses?: number | undefined;
  /** Milliseconds between background prunes. Defaults to 60000. */
  intervalMs?: number | undefined;
  /** Responses deleted per statement, so no prune holds the write lock for long. Defaults to 500. */
  batchSize?: number | undefined;
}

export interface SqliteOptions {
  /**
   * Milliseconds a write waits for another process's write lock before failing as `busy`.
   * node:sqlite is synchronous, so this wait blocks the event loop: SQLite serves one instance
   * (use Postgres for several). Defaults to 5000.
   */
  busyTimeoutMs?: number | undefined;
  /**
   * A ceiling on the database file, in bytes (SQLite's max_page_count): writes beyond it fail
   * as `disk_full`, as on a full disk, and write nothing. Defaults to no ceiling.
   */
  maxSizeBytes?: number | undefined;
}

export interface PostgresOptions {
  /** Connections in the pool. Defaults to 10. */
  poolSize?: number | undefined;
  /**
   * Milliseconds to wait for a connection before failing as `unreachable` (pg waits for the
   * OS otherwise: minutes on a host that drops packets). Defaults to 5000.
   */
  connectTimeoutMs?: number | undefined;
  /** Milliseconds a statement may run before the server cancels it (`timeout`). Defaults to 15000. */
  statementTimeoutMs?: number | undefined;
}

/** The subset of pino's logger the store uses. */
export interface StoreLogger {
  warn(object: Record<string, unknown>, message: string): void;
}
