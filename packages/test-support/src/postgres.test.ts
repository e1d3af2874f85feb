import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresBinDir, startPostgres } from './postgres.js';

const run = promisify(execFile);

/** Asks the server through psql, the only client this package has. */
async function query(url: string, statement: string): Promise<string> {
  const { stdout } = await run(join(postgresBinDir(), 'psql'), [
    ...['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', statement],
  ]);
  return stdout.trim();
}

describe('startPostgres', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(() => server?.dispose());

  it('serves on loopback, with trust auth, and creates databases of their own', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const first = await server.createDatabase();
    const second = await server.createDatabase();
    expect(first).not.toBe(second);
    await query(first, 'create table only_here (n integer)');
    expect(await query(first, "select count(*) from pg_tables where tablename = 'only_here'")).toBe(
      '1',
    );
    expect(
      await query(second, "select count(*) from pg_tables where tablename = 'only_here'"),
    ).toBe('0');
  });

  it('stops and starts again with its data', async () => {
    const database = await server.createDatabase();
    await query(database, 'create table kept (n integer); insert into kept values (7)');
    await server.stop();
    await expect(query(database, 'select 1')).rejects.toThrow();
    await server.start();
    expect(await query(database, 'select n from kept')).toBe('7');
  });
});
