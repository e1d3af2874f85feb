import { type PostgresServer, startPostgres } from '@hrserve/test-support/postgres';

let postgres: Promise<PostgresServer> | undefined;

/**
 * The two stores a suite runs against: SQLite (the default, in the test's data directory)
 * and PostgreSQL (Debian's, started once per test file, a new database per suite). Call
 * `stopPostgres` in the file's afterAll.
 */
export const STORE_BACKENDS = [
  { name: 'SQLite', env: async (): Promise<Record<string, string>> => ({}) },
  {
    name: 'PostgreSQL',
    env: async (): Promise<Record<string, string>> => {
      postgres ??= startPostgres();
      return { DATABASE_URL: await (await postgres).createDatabase() };
    },
  },
];

export async function stopPostgres(): Promise<void> {
  const started = postgres;
  postgres = undefined;
  await (await started)?.dispose();
}
