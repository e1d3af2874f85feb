import type { Kysely } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import type { Backend } from './backend.js';
import { MigrationError } from './errors.js';
import { StoreUnavailableError } from './faults.js';
import { toStoreError } from './guard.js';
import { MIGRATIONS } from './migrations/index.js';
import type { StoreSchema } from './schema.js';

/**
 * Brings the schema to the latest version and returns the migrations this call ran (none
 * when another process ran them first). Safe when several processes open the store at once:
 * on Postgres, Kysely's Migrator holds a session advisory lock around one transaction; on
 * SQLite, our dialect's BEGIN IMMEDIATE transaction is the lock. Either way the second
 * process waits, then reads that nothing is pending.
 */
export async function migrate(db: Kysely<StoreSchema>, backend: Backend): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => forBackend(backend) },
    migrationTableName: 'hrserve_migration',
    migrationLockTableName: 'hrserve_migration_lock',
  });
  // migrateToLatest never throws: it reports the error and each migration's status.
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const translated = toStoreError(error);
    if (translated instanceof StoreUnavailableError) throw translated;
    const failed = results.find((result) => result.status === 'Error')?.migrationName;
    throw new MigrationError(failed, { cause: error });
  }
  return results
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

function forBackend(backend: Backend): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, migration]) => [
      name,
      { up: (db: Kysely<unknown>) => migration.up(db, backend) },
    ]),
  );
}
