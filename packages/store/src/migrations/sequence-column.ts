import type { CreateTableBuilder } from 'kysely';
import type { Backend } from '../backend.js';

/**
 * A never-reused insertion sequence as the primary key. SQLite's AUTOINCREMENT needs an
 * INTEGER PRIMARY KEY (a plain rowid would reuse the largest value once it is deleted);
 * Postgres has identity columns.
 */
export function withSequence<Table extends string, Column extends string>(
  table: CreateTableBuilder<Table, Column>,
  backend: Backend,
): CreateTableBuilder<Table, Column | 'seq'> {
  return backend === 'postgres'
    ? table.addColumn('seq', 'bigint', (column) =>
        column.primaryKey().generatedByDefaultAsIdentity(),
      )
    : table.addColumn('seq', 'integer', (column) => column.primaryKey().autoIncrement());
}
