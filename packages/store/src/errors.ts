/**
 * The store's domain errors that are about the request, not the database (those are
 * `StoreUnavailableError`, in faults.ts). Each has a stable `code`; nobody matches on messages.
 */

/** A write used an id that is already stored (a response id, or an item id in a conversation). */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  readonly code = 'store_conflict';

  constructor(options: { cause: unknown }) {
    super('an id in this write is already stored; give new items new ids', options);
  }
}

/** A page was asked for `after` an item that is not in the list (never was, or was deleted). */
export class UnknownCursorError extends Error {
  override readonly name = 'UnknownCursorError';
  readonly code = 'unknown_cursor';

  constructor(readonly cursor: string) {
    super(`no item with id ${JSON.stringify(cursor)} in this list to page after`);
  }
}

/** A migration failed for a reason other than a fault (a bug, or a database from a newer release). */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly code = 'store_migration_failed';

  constructor(
    readonly migration: string | undefined,
    options: { cause: unknown },
  ) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      migration
        ? `store migration ${migration} failed: ${cause}`
        : `store migrations could not run: ${cause} (a database written by a newer release? run that release, or point this one at another database)`,
      options,
    );
  }
}

/** SQLite's extended SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE, and Postgres' unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (code === 'ERR_SQLITE_ERROR') return errcode === 1555 || errcode === 2067;
  return code === '23505';
}
