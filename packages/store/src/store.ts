import { sql } from 'kysely';
import type { Backend } from './backend.js';
import { BatchesRepository } from './batches.js';
import { ConversationsRepository } from './conversations.js';
import { type Database, openDatabase } from './database.js';
import { FilesRepository } from './files.js';
import { guard, toStoreError } from './guard.js';
import { JobsRepository } from './jobs.js';
import { migrate } from './migrate.js';
import type { RetentionOptions, StoreOptions } from './options.js';
import { Pruner } from './pruner.js';
import { ResponsesRepository } from './responses.js';
import { type PruneResult, pruneResponses, type RetentionLimits } from './retention.js';

/** The services' durable state; see `openStore`. */
export interface Store extends AsyncDisposable {
  readonly backend: Backend;
  /** The SQLite file, or the Postgres URL without its password. */
  readonly location: string;
  /** The migrations this open ran: none when the schema was current or another process ran them. */
  readonly migrationsRun: readonly string[];
  readonly responses: ResponsesRepository;
  readonly conversations: ConversationsRepository;
  /** Files' metadata (their bytes are on the service's disk). */
  readonly files: FilesRepository;
  readonly batches: BatchesRepository;
  /** Background work claimed with leases (a batch's lines). */
  readonly jobs: JobsRepository;
  /** Applies the retention limits now (the background pruner does it every interval). */
  prune(now?: number): Promise<PruneResult>;
  /** Resolves when the database answers; `StoreUnavailableError` otherwise (for /health). */
  ping(): Promise<void>;
  /** Stops the pruner, waits for its run in flight and closes the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the store: SQLite in `dataDir` (created 0700), or Postgres at `databaseUrl`; brings
 * the schema to the latest version (safe when several processes open it at once); starts
 * the background pruner when a retention limit is set.
 *
 * Throws `StoreUnavailableError` when the database cannot be reached or opened (a service
 * keeps serving its stateless routes and may retry), `MigrationError` when the schema cannot
 * be brought up to date, and a TypeError for options that cannot work.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const limits = retentionLimits(options.retention);
  let database: Database;
  try {
    database = await openDatabase(options);
  } catch (error) {
    throw toStoreError(error);
  }
  try {
    const migrationsRun = await migrate(database.db, database.backend);
    return new OpenStore(database, migrationsRun, limits, options);
  } catch (error) {
    await database.db.destroy().catch(() => {});
    throw error;
  }
}

class OpenStore implements Store {
  readonly backend: Backend;
  readonly location: string;
  readonly migrationsRun: readonly string[];
  readonly responses: ResponsesRepository;
  readonly conversations: ConversationsRepository;
  readonly files: FilesRepository;
  readonly batches: BatchesRepository;
  readonly jobs: JobsRepository;
  readonly #database: Database;
  readonly #limits: RetentionLimits & { intervalMs: number };
  readonly #pruner: Pruner | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    database: Database,
    migrationsRun: readonly string[],
    limits: RetentionLimits & { intervalMs: number },
    options: StoreOptions,
  ) {
    this.#database = database;
    this.#limits = limits;
    this.backend = database.backend;
    this.location = database.location;
    this.migrationsRun = migrationsRun;
    this.responses = new ResponsesRepository(database.db, database.backend);
    this.conversations = new ConversationsRepository(database.db);
    this.files = new FilesRepository(database.db);
    this.batches = new BatchesRepository(database.db);
    this.jobs = new JobsRepository(database.db, database.backend);
    if (limits.ttlMs > 0 || limits.maxResponses > 0) {
      this.#pruner = new Pruner({
        prune: () => this.prune(),
        intervalMs: limits.intervalMs,
        onError: (error) =>
          options.logger?.warn(
            { err: error },
            'pruning stored responses failed; the next interval tries again',
          ),
      });
    }
  }

  prune(now = Date.now()): Promise<PruneResult> {
    return guard(() =>
      pruneResponses(this.#database.db, this.#database.backend, this.#limits, now),
    );
  }

  ping(): Promise<void> {
    return guard(async () => {
      await sql`select 1`.execute(this.#database.db);
    });
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#pruner?.stop();
      await this.#database.db.destroy();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function retentionLimits(retention: RetentionOptions = {}): RetentionLimits & {
  intervalMs: number;
} {
  const limits = {
    ttlMs: retention.ttlMs ?? 0,
    maxResponses: retention.maxResponses ?? 0,
    batchSize: retention.batchSize ?? 500,
    intervalMs: retention.intervalMs ?? 60_000,
  };
  for (const [name, value] of Object.entries(limits)) {
    const positive = name === 'batchSize' || name === 'intervalMs';
    if (!Number.isSafeInteger(value) || value < (positive ? 1 : 0)) {
      throw new TypeError(
        `retention.${name} must be a whole number ${positive ? 'above 0' : 'of 0 or more (0: no limit)'}, not ${value}`,
      );
    }
  }
  return limits;
}
