import type { Kysely } from 'kysely';
import type { Backend } from '../backend.js';
import { withSequence } from './sequence-column.js';

/** Uploaded and produced files (their bytes are on disk), batches, and the jobs they run as. */
export async function up(db: Kysely<unknown>, backend: Backend): Promise<void> {
  await db.schema
    .createTable('files')
    .$call((table) => withSequence(table, backend))
    .addColumn('id', 'text', (column) => column.notNull().unique())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('filename', 'text', (column) => column.notNull())
    .addColumn('bytes', 'bigint', (column) => column.notNull())
    .addColumn('lines', 'bigint', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('stored_name', 'text', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('batches')
    .$call((table) => withSequence(table, backend))
    .addColumn('id', 'text', (column) => column.notNull().unique())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('trace_parent', 'text')
    .addColumn('body', 'text', (column) => column.notNull())
    .execute();
  // Runners look for batches with a step to take (validating, finalizing, cancelling).
  await db.schema.createIndex('batches_status').on('batches').column('status').execute();

  await db.schema
    .createTable('jobs')
    .$call((table) => withSequence(table, backend))
    .addColumn('id', 'text', (column) => column.notNull().unique())
    .addColumn('queue', 'text', (column) => column.notNull())
    .addColumn('group_id', 'text', (column) => column.notNull())
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('payload', 'text', (column) => column.notNull())
    .addColumn('result', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  // Claiming: the oldest queued (or lease-expired) job of a queue.
  await db.schema
    .createIndex('jobs_claim')
    .on('jobs')
    .columns(['queue', 'status', 'seq'])
    .execute();
  // A group's counts and its results in order.
  await db.schema.createIndex('jobs_group').on('jobs').columns(['group_id', 'position']).execute();
}
