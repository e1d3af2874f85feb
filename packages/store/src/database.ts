import { Kysely, PostgresDialect } from 'kysely';
import type { Backend } from './backend.js';
import type { StoreOptions } from './options.js';
import { describePostgresUrl, openPostgresPool } from './postgres/open-postgres.js';
import type { StoreSchema } from './schema.js';
import { NodeSqliteDialect } from './sqlite/node-sqlite-dialect.js';
import { openSqlite, SQLITE_FILE } from './sqlite/open-sqlite.js';

/** The query layer over whichever backend the options name. */
export interface Database {
  readonly db: Kysely<StoreSchema>;
  readonly backend: Backend;
  /** Where the data is, for messages: the SQLite file, or the Postgres URL without password. */
  readonly location: string;
}

/**
 * Postgres when `databaseUrl` is given, SQLite in `dataDir` otherwise. Throws a TypeError for
 * options that cannot work (no URL and no directory, a URL that is not postgres://); throws
 * the driver's error when SQLite cannot open its file (the caller classifies it). Postgres
 * connects lazily, on the first query.
 */
export async function openDatabase(options: StoreOptions): Promise<Database> {
  if (options.databaseUrl) {
    const location = describePostgresUrl(options.databaseUrl);
    const pool = openPostgresPool(
      options.databaseUrl,
      options.service,
      options.postgres,
      options.logger,
    );
    const db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
    return { db, backend: 'postgres', location };
  }
  if (!options.dataDir) {
    throw new TypeError(
      'the store needs a place: pass dataDir (see serviceDataDir()) for SQLite, or databaseUrl for Postgres',
    );
  }
  const sqlite = await openSqlite(options.dataDir, options.sqlite);
  const db = new Kysely<StoreSchema>({ dialect: new NodeSqliteDialect(sqlite) });
  return { db, backend: 'sqlite', location: `${options.dataDir}/${SQLITE_FILE}` };
}
