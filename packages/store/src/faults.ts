/**
 * Which infrastructure failures make the store unavailable, told apart from programming and
 * data errors. A route maps `StoreUnavailableError` to 503 whatever the fault; the fault says
 * what an operator should look at.
 */

/** Why the store cannot serve a call right now. */
export type StoreFault =
  /** The database cannot be reached or opened (server down, connection dropped, I/O error). */
  | 'unreachable'
  /** The disk (or the configured size ceiling) is full: nothing more can be written. */
  | 'disk_full'
  /** The database only accepts reads (a read-only file, a Postgres standby). */
  | 'read_only'
  /** The database is overloaded or locked (too many connections, lock or pool waits). */
  | 'busy'
  /** A statement ran past its time limit. */
  | 'timeout'
  /** The database file is damaged. */
  | 'corrupt'
  /** The database refuses us: wrong credentials, a database that does not exist. */
  | 'misconfigured';

/** What each fault tells an operator to do: one catalogue, so no caller matches on messages. */
const ADVICE: Record<StoreFault, string> = {
  unreachable: 'the database cannot be reached; check that it is running and reachable',
  disk_full: 'the database is full; free disk space (or raise its size limit)',
  read_only: 'the database only accepts reads; point the service at a writable primary',
  busy: 'the database is overloaded or locked; retry later',
  timeout: 'a database statement timed out; retry later',
  corrupt: 'the database file is damaged; restore it from a backup or move it away',
  misconfigured:
    'the database refused the connection; check the user, password and database name in the URL',
};

/**
 * The store cannot serve the call because of its database, not because of the request.
 * Services answer it with 503 (stateful routes only); `fault` says why, `cause` carries the
 * driver's error.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store_unavailable';

  constructor(
    readonly fault: StoreFault,
    options: { cause: unknown },
  ) {
    super(`store unavailable (${fault}): ${ADVICE[fault]} [${describe(options.cause)}]`, options);
  }
}

/** Returns the fault an error stands for, or `undefined` when it is not an infrastructure fault. */
export function classifyFault(error: unknown): StoreFault | undefined {
  // Walk causes and aggregated errors (pg reports a refused dual-stack connect as an
  // AggregateError); bounded so a cyclic `cause` cannot loop.
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 16; seen++) {
    const current = pending.shift();
    const fault = classifyOne(current);
    if (fault) return fault;
    if (current instanceof AggregateError) pending.push(...current.errors);
    if (current instanceof Error && current.cause !== undefined) pending.push(current.cause);
  }
  return undefined;
}

function classifyOne(error: unknown): StoreFault | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errcode, message } = error as {
    code?: unknown;
    errcode?: unknown;
    message?: unknown;
  };
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') return sqliteFault(errcode);
  if (typeof code === 'string') {
    const fault = SYSTEM_FAULTS[code] ?? postgresFault(code);
    if (fault) return fault;
  }
  if (typeof message === 'string') return messageFault(message);
  return undefined;
}

/** SQLite result codes (https://sqlite.org/rescode.html), by primary code (`errcode & 0xff`). */
function sqliteFault(errcode: number): StoreFault | undefined {
  switch (errcode & 0xff) {
    case 13: // SQLITE_FULL: the disk, or max_page_count
      return 'disk_full';
    case 10: // SQLITE_IOERR
    case 14: // SQLITE_CANTOPEN
      return 'unreachable';
    case 8: // SQLITE_READONLY
      return 'read_only';
    case 5: // SQLITE_BUSY: another process held the write lock past the busy timeout
    case 6: // SQLITE_LOCKED
    case 7: // SQLITE_NOMEM
      return 'busy';
    case 11: // SQLITE_CORRUPT
    case 26: // SQLITE_NOTADB
      return 'corrupt';
    default:
      return undefined;
  }
}

/** Node system errors, from sockets (Postgres) and from creating the data directory (SQLite). */
const SYSTEM_FAULTS: Record<string, StoreFault> = {
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  ETIMEDOUT: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EPIPE: 'unreachable',
  ENOENT: 'unreachable', // a Unix socket path with no server behind it
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  ENOSPC: 'disk_full',
  EDQUOT: 'disk_full',
  EROFS: 'read_only',
  EACCES: 'misconfigured',
  EPERM: 'misconfigured',
  ENOTDIR: 'misconfigured', // the data directory's path runs through a file
};

/** PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
function postgresFault(sqlstate: string): StoreFault | undefined {
  if (!/^[0-9A-Z]{5}$/.test(sqlstate)) return undefined;
  switch (sqlstate) {
    case '53100': // disk_full
      return 'disk_full';
    case '53200': // out_of_memory
    case '53300': // too_many_connections
    case '55P03': // lock_not_available
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return 'busy';
    case '57014': // query_canceled (statement_timeout)
      return 'timeout';
    case '25006': // read_only_sql_transaction (a standby)
      return 'read_only';
    case '58030': // io_error
    case '57P01': // admin_shutdown
    case '57P02': // crash_shutdown
    case '57P03': // cannot_connect_now (starting up, shutting down)
      return 'unreachable';
    case '3D000': // invalid_catalog_name: the database does not exist
    case '28000': // invalid_authorization_specification
    case '28P01': // invalid_password
      return 'misconfigured';
    case 'XX001': // data_corrupted
    case 'XX002': // index_corrupted
      return 'corrupt';
    default:
      // Class 08: connection exceptions.
      return sqlstate.startsWith('08') ? 'unreachable' : undefined;
  }
}

/** pg and pg-pool report these without a code (pg-pool index.js, pg client.js). */
function messageFault(message: string): StoreFault | undefined {
  if (message.startsWith('Connection terminated')) return 'unreachable'; // dropped, or connect timeout
  if (message === 'Client has encountered a connection error and is not queryable') {
    return 'unreachable';
  }
  if (message === 'timeout exceeded when trying to connect') return 'busy'; // pool exhausted
  if (message === 'Query read timeout') return 'timeout';
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) {
    const { code } = error as { code?: unknown };
    const detail = error.message || String(code ?? error.name);
    return typeof code === 'string' && !detail.includes(code) ? `${code}: ${detail}` : detail;
  }
  return String(error);
}
