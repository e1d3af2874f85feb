import { startPostgres } from '@hrserve/test-support/postgres';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    /** The superuser's URL of this run's PostgreSQL server. */
    postgresAdminUrl: string;
  }
}

/** Starts one throwaway PostgreSQL server for the whole run, and removes it afterwards. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('postgresAdminUrl', server.url);
  return () => server.dispose();
}
