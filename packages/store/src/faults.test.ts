import { describe, expect, it } from 'vitest';
import { classifyFault, StoreUnavailableError } from './faults.js';

/** An error shaped like the driver's: node:sqlite's, pg's DatabaseError, Node's system errors. */
function driverError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifyFault', () => {
  it.each([
    ['SQLite: database or disk is full', { code: 'ERR_SQLITE_ERROR', errcode: 13 }, 'disk_full'],
    [
      'SQLite: disk I/O error (extended code)',
      { code: 'ERR_SQLITE_ERROR', errcode: 266 },
      'unreachable',
    ],
    [
      'SQLite: unable to open database file',
      { code: 'ERR_SQLITE_ERROR', errcode: 14 },
      'unreachable',
    ],
    ['SQLite: database is locked', { code: 'ERR_SQLITE_ERROR', errcode: 5 }, 'busy'],
    [
      'SQLite: attempt to write a readonly database',
      { code: 'ERR_SQLITE_ERROR', errcode: 8 },
      'read_only',
    ],
    ['SQLite: file is not a database', { code: 'ERR_SQLITE_ERROR', errcode: 26 }, 'corrupt'],
    ['connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }, 'unreachable'],
    ['getaddrinfo ENOTFOUND db.invalid', { code: 'ENOTFOUND' }, 'unreachable'],
    ['no space left on device', { code: 'ENOSPC' }, 'disk_full'],
    ['could not extend file: No space left on device', { code: '53100' }, 'disk_full'],
    ['terminating connection due to administrator command', { code: '57P01' }, 'unreachable'],
    ['the database system is starting up', { code: '57P03' }, 'unreachable'],
    ['connection failure', { code: '08006' }, 'unreachable'],
    ['canceling statement due to statement timeout', { code: '57014' }, 'timeout'],
    ['sorry, too many clients already', { code: '53300' }, 'busy'],
    ['cannot execute INSERT in a read-only transaction', { code: '25006' }, 'read_only'],
    ['database "nosuchdb" does not exist', { code: '3D000' }, 'misconfigured'],
    ['password authentication failed for user "x"', { code: '28P01' }, 'misconfigured'],
    ['Connection terminated unexpectedly', {}, 'unreachable'],
    ['Connection terminated due to connection timeout', {}, 'unreachable'],
    ['timeout exceeded when trying to connect', {}, 'busy'],
    ['Query read timeout', {}, 'timeout'],
  ] as const)('%s → %s', (message, fields, fault) => {
    expect(classifyFault(driverError(message, fields))).toBe(fault);
  });

  it.each([
    ['SQLite: UNIQUE constraint failed', { code: 'ERR_SQLITE_ERROR', errcode: 2067 }],
    ['SQLite: no such table', { code: 'ERR_SQLITE_ERROR', errcode: 1 }],
    ['duplicate key value violates unique constraint', { code: '23505' }],
    ['relation "x" does not exist', { code: '42P01' }],
    ['a bug', {}],
  ] as const)('%s is not a fault', (message, fields) => {
    expect(classifyFault(driverError(message, fields))).toBeUndefined();
  });

  it('looks inside aggregated errors and causes', () => {
    const refused = new AggregateError(
      [driverError('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED' })],
      '',
    );
    expect(classifyFault(refused)).toBe('unreachable');
    expect(classifyFault(new Error('wrapped', { cause: refused }))).toBe('unreachable');
    expect(classifyFault('a string')).toBeUndefined();
  });

  it('stops on a cause that loops', () => {
    const looping = new Error('outer');
    Object.assign(looping, { cause: looping });
    expect(classifyFault(looping)).toBeUndefined();
  });
});

describe('StoreUnavailableError', () => {
  it('says what happened and what to do, and keeps the cause', () => {
    const cause = driverError('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' });
    const error = new StoreUnavailableError('unreachable', { cause });
    expect(error).toMatchObject({ fault: 'unreachable', code: 'store_unavailable', cause });
    expect(error.message).toBe(
      'store unavailable (unreachable): the database cannot be reached; check that it is running and reachable [connect ECONNREFUSED 127.0.0.1:5432]',
    );
  });
});
