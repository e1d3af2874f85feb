import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqliteOptions } from '../options.js';

/** The database file's name in the service's data directory (plus -wal and -shm beside it). */
export const SQLITE_FILE = 'store.sqlite';

/**
 * Opens (creating when missing) the SQLite database in `dataDir` and sets it up for a store
 * whose commits survive a power cut: WAL, so readers never wait for the writer, and
 * synchronous=FULL, so every commit is fsynced to the WAL (NORMAL only survives a crash of
 * the process). Throws node:sqlite's or fs's error; the caller classifies it.
 */
export async function openSqlite(
  dataDir: string,
  options: SqliteOptions = {},
): Promise<DatabaseSync> {
  // 0700: the store holds users' conversations. mkdir's mode only applies to directories it
  // creates; one made earlier (by `just install-units`) keeps its own.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const { DatabaseSync } = await loadNodeSqlite();
  const database = new DatabaseSync(join(dataDir, SQLITE_FILE), {
    timeout: busyTimeoutMs,
    enableForeignKeyConstraints: true,
  });
  try {
    await useWal(database, busyTimeoutMs);
    configure(database, options);
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

/** Pause between attempts to switch to WAL. */
const WAL_RETRY_MS = 25;

/**
 * Switches the file to WAL (once: the mode is kept in the file). The switch needs the file
 * to itself, and SQLite answers SQLITE_BUSY at once, without its busy timeout, when another
 * process is opening the same new file (two instances starting together): retry, for as long
 * as the busy timeout, a bounded number of times.
 */
async function useWal(database: DatabaseSync, busyTimeoutMs: number): Promise<void> {
  const attempts = Math.max(1, Math.ceil(busyTimeoutMs / WAL_RETRY_MS));
  for (let attempt = 1; ; attempt++) {
    try {
      // A filesystem that cannot do WAL keeps the old mode and says so in the answer.
      const mode = database.prepare('pragma journal_mode = wal').get()?.journal_mode;
      if (mode === 'wal') return;
      throw new Error(
        `SQLite could not switch to WAL (journal_mode is ${String(mode)}): put the data directory on a local filesystem`,
      );
    } catch (error) {
      const { errcode } = error as { errcode?: unknown };
      const busy = typeof errcode === 'number' && (errcode & 0xff) === 5;
      if (!busy || attempt >= attempts) throw error;
      await sleep(WAL_RETRY_MS);
    }
  }
}

function configure(database: DatabaseSync, options: SqliteOptions): void {
  database.exec('pragma synchronous = full');
  // Truncate the WAL back to 64 MiB after checkpoints instead of keeping its largest size.
  database.exec('pragma journal_size_limit = 67108864');
  if (options.maxSizeBytes) {
    const pageSize = Number(database.prepare('pragma page_size').get()?.page_size);
    const pages = Math.max(1, Math.floor(options.maxSizeBytes / pageSize));
    database.exec(`pragma max_page_count = ${pages}`);
  }
}

/**
 * node:sqlite, imported when a store opens rather than with the package: a service on a Node
 * without it (before 22.13; hrserve supports 24.11+) still starts, and says why its store
 * cannot open instead of failing to load.
 */
async function loadNodeSqlite(): Promise<typeof import('node:sqlite')> {
  try {
    return await import('node:sqlite');
  } catch (error) {
    throw new TypeError(
      `the SQLite store needs Node.js 24.11 or newer (node:sqlite), and this is ${process.version}: start the service through ./pnpm (or its unit), or set DATABASE_URL to use PostgreSQL`,
      { cause: error },
    );
  }
}
