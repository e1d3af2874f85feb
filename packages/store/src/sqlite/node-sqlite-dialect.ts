import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

/**
 * Kysely over Node's built-in `node:sqlite`. Kysely ships a dialect for better-sqlite3's API;
 * this adapts node:sqlite to that API and fixes three things its SqliteDialect gets wrong for
 * a store that two processes may open at once (each checked with two processes):
 * - transactions begin IMMEDIATE: a deferred one that reads then writes fails at once with
 *   SQLITE_BUSY_SNAPSHOT when another process wrote in between, whatever the busy timeout;
 * - DDL runs in a transaction, so Kysely's Migrator wraps a migration run in one, and the
 *   second process waits on the write lock, then finds nothing left to run (stock Kysely
 *   takes no lock on SQLite: the second process fails with "table already exists");
 * - no ROLLBACK after SQLite already rolled back (SQLITE_FULL, IOERR): that ROLLBACK would
 *   throw "cannot rollback - no transaction is active", which Kysely rethrows in place of
 *   the error that says what happened.
 */
export class NodeSqliteDialect extends SqliteDialect {
  readonly #database: DatabaseSync;

  constructor(database: DatabaseSync) {
    super({ database: asKyselyDatabase(database) });
    this.#database = database;
  }

  override createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  override createDriver(): Driver {
    return new NodeSqliteDriver(this.#database);
  }
}

class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDriver extends SqliteDriver {
  readonly #database: DatabaseSync;

  constructor(database: DatabaseSync) {
    super({ database: asKyselyDatabase(database) });
    this.#database = database;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.#database.isTransaction) await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
}

/** better-sqlite3's statement shape, which Kysely's SqliteDriver calls, over node:sqlite. */
function asKyselyDatabase(database: DatabaseSync): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const statement = database.prepare(sql);
      // node:sqlite takes a leading plain object (or Date) as named parameters: an empty
      // object first makes every value positional.
      const bind = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[];
      return {
        // Whether it returns rows (SELECT, PRAGMA, ... RETURNING): columns() is empty for DDL
        // and for writes without RETURNING.
        reader: statement.columns().length > 0,
        all: (parameters) => statement.all({}, ...bind(parameters)),
        run: (parameters) => statement.run({}, ...bind(parameters)),
        iterate: (parameters) =>
          statement.iterate({}, ...bind(parameters)) as IterableIterator<unknown>,
      };
    },
  };
}
