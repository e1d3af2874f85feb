import pg from 'pg';
import type { PostgresOptions, StoreLogger } from '../options.js';

/**
 * A pg pool for the store. pg's defaults wait forever: no connect timeout (a host that drops
 * packets hangs a request for the OS's minutes) and no statement timeout, so both are set.
 * The pool connects lazily: a server that is down shows on the first query, not here.
 */
export function openPostgresPool(
  url: string,
  service: string,
  options: PostgresOptions = {},
  logger?: StoreLogger,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: `hrserve-${service}`,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    // The client gives up a little after the server would have cancelled the statement.
    query_timeout: (options.statementTimeoutMs ?? 15_000) + 5_000,
    types: sameTypesAsSqlite(),
  });
  // An idle connection that the server drops (a restart, pg_terminate_backend) is reported
  // here; without a listener the 'error' event would crash the process. The pool replaces
  // the connection on its next use.
  pool.on('error', (error) => {
    logger?.warn({ err: error }, 'an idle database connection failed; it will be replaced');
  });
  // A connection that drops while checked out, between two queries of a transaction, emits
  // 'error' on its client, where pg-pool listens only while the client is idle: unheard, it
  // would crash the process. The caller sees the failure on its next query, and the pool
  // drops the connection when it comes back.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/**
 * bigint (int8) columns and count(*) come back as numbers, as SQLite gives them, instead of
 * pg's strings: the store keeps epoch milliseconds and sequence numbers there, well below 2^53.
 */
function sameTypesAsSqlite(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  return types;
}

/**
 * The URL without its password, for messages and logs; throws a TypeError saying how to fix
 * it when it is not a PostgreSQL URL.
 */
export function describePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      'the database URL is not a URL: give it as postgres://user:password@host:5432/database',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new TypeError(
      `the database URL's scheme is ${parsed.protocol} : give it as postgres://user:password@host:5432/database`,
    );
  }
  parsed.password = '';
  return parsed.toString();
}
