import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

declare module 'vitest' {
  interface ProvidedContext {
    /** The superuser's URL of the run's PostgreSQL server (postgres-global-setup.ts). */
    postgresAdminUrl: string;
  }
}

/** A throwaway PostgreSQL server on 127.0.0.1, trust auth, superuser `postgres`. */
export interface PostgresServer {
  /** The superuser's URL to the `postgres` database: create test databases with it. */
  readonly url: string;
  readonly port: number;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and keeps its data, to test an outage; `start()` brings it back. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a PostgreSQL server from the distribution's binaries (Debian's `postgresql`
 * package: /usr/lib/postgresql/<version>/bin) in a new temporary directory, on a free
 * loopback port, its Unix socket in that directory. fsync is off: the data is thrown away.
 * As root, the server runs as the `postgres` user (initdb and postgres refuse root).
 * Never reads DATABASE_URL: tests must not touch a real database.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'hrserve-pg-'));
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (owner) await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  // cwd: the postgres user may not be allowed into the test's directory.
  const options = { env: cleanEnv(), cwd: dir };
  const as = (command: string, args: string[]) =>
    owner
      ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], options)
      : run(join(bin, command), args, options);
  try {
    await as('initdb', [
      ...['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8'],
      ...['--no-sync', '--no-instructions'],
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let port = 0;
  const startOn = (candidate: number) =>
    as('pg_ctl', [
      ...['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30'],
      '-o',
      `-p ${candidate} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
      'start',
    ]);
  // A free port can be taken between finding it and the server binding it: try a few.
  for (let attempt = 1; port === 0; attempt++) {
    const candidate = await freePort();
    try {
      await startOn(candidate);
      port = candidate;
    } catch (error) {
      if (attempt >= 3) {
        const log = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
        await rm(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start: ${String(error)}\n${log.slice(-2000)}`);
      }
    }
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  return {
    url,
    port,
    createDatabase: () => createDatabase(url),
    stop: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    },
    start: async () => {
      await startOn(port);
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * Creates an empty database on the server at `adminUrl` (a superuser's URL, such as
 * `PostgresServer.url`) and returns its URL: one per test file keeps files apart.
 */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await run(
    join(postgresBinDir(), 'psql'),
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', adminUrl, '-c', `create database ${name}`],
    { env: cleanEnv() },
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The newest installed server's binaries, or HRSERVE_PG_BINDIR; throws one line saying
 * what to install.
 */
export function postgresBinDir(): string {
  const override = process.env.HRSERVE_PG_BINDIR;
  if (override) return override;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(
      'these tests need a PostgreSQL server (initdb, pg_ctl) in /usr/lib/postgresql/<version>/bin: install it (Debian: apt-get install postgresql), or set HRSERVE_PG_BINDIR to its bin directory',
    );
  }
  return join(root, newest, 'bin');
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres']).stdout?.toString());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) {
    throw new Error(
      'running as root, these tests start PostgreSQL as the `postgres` user, which does not exist: install it (Debian: apt-get install postgresql)',
    );
  }
  return { uid, gid };
}

/** No PG* variables (PGHOST, PGDATABASE…) and no DATABASE_URL reach the tools. */
function cleanEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
