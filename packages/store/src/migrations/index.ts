import type { Kysely } from 'kysely';
import type { Backend } from '../backend.js';
import * as initial from './0001-initial.js';
import * as filesBatchesJobs from './0002-files-batches-jobs.js';

/** One schema version: its `up` is given the backend for the few DDL spellings that differ. */
export interface StoreMigration {
  up(db: Kysely<unknown>, backend: Backend): Promise<void>;
}

/**
 * Every migration, in order (Kysely sorts the names: keep the zero-padded prefix). Imported
 * statically, not read from a folder, so the bundle carries them. A released migration is
 * never edited: add the next one.
 */
export const MIGRATIONS: Readonly<Record<string, StoreMigration>> = {
  '0001-initial': initial,
  '0002-files-batches-jobs': filesBatchesJobs,
};
