import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';

/**
 * A vitest globalSetup: one throwaway PostgreSQL server for the whole run, removed
 * afterwards; test files read its superuser URL with `inject('postgresAdminUrl')` and make
 * a database each (`createDatabase`).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('postgresAdminUrl', server.url);
  return () => server.dispose();
}
