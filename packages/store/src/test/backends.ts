import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '@hrserve/test-support/postgres';
import { inject } from 'vitest';
import type { Backend } from '../backend.js';
import type { StoreOptions } from '../options.js';

/** Where a test's store lives: a new SQLite directory, or a new database on this run's server. */
export type StoreLocation = Pick<StoreOptions, 'dataDir' | 'databaseUrl'>;

export interface TestBackend {
  name: Backend;
  /** A new, empty place for a store. */
  fresh(): Promise<StoreLocation>;
}

const directories: string[] = [];

/** Every backend: the shared suites run once for each. */
export const BACKENDS: readonly TestBackend[] = [
  {
    name: 'sqlite',
    // A file, not :memory:, so WAL and several processes are exercised as in production.
    fresh: async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hrserve-store-'));
      directories.push(dataDir);
      return { dataDir };
    },
  },
  {
    name: 'postgres',
    fresh: async () => ({ databaseUrl: await createDatabase(inject('postgresAdminUrl')) }),
  },
];

/** Removes the SQLite directories this file made (databases go with the server). */
export async function removeTestDirectories(): Promise<void> {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
