import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceDataDir } from './data-dir.js';
import { MIGRATIONS } from './migrations/index.js';
import { SQLITE_FILE } from './sqlite/open-sqlite.js';
import { openStore } from './store.js';
import { BACKENDS, removeTestDirectories } from './test/backends.js';

afterAll(removeTestDirectories);

describe('serviceDataDir', () => {
  it('is $XDG_DATA_HOME/hrserve/<service>', () => {
    expect(serviceDataDir('llmchat', { XDG_DATA_HOME: '/srv/data' })).toBe(
      '/srv/data/hrserve/llmchat',
    );
  });

  it('falls back to ~/.local/share when XDG_DATA_HOME is unset, empty or relative', () => {
    const fallback = join(homedir(), '.local/share/hrserve/embed');
    expect(serviceDataDir('embed', {})).toBe(fallback);
    expect(serviceDataDir('embed', { XDG_DATA_HOME: '' })).toBe(fallback);
    expect(serviceDataDir('embed', { XDG_DATA_HOME: 'relative/dir' })).toBe(fallback);
  });

  it('refuses a service name that is not a plain directory name', () => {
    expect(() => serviceDataDir('../etc', {})).toThrow(/cannot name a directory/);
  });
});

describe('a SQLite store in a data directory', () => {
  it('creates the directory, private to its user, with the database in it', async () => {
    const sqlite = BACKENDS.find((backend) => backend.name === 'sqlite');
    const parent = (await sqlite?.fresh())?.dataDir ?? '';
    const dataDir = serviceDataDir('llmchat', { XDG_DATA_HOME: parent });
    const store = await openStore({ service: 'llmchat', dataDir });
    try {
      expect(store).toMatchObject({
        backend: 'sqlite',
        location: join(dataDir, SQLITE_FILE),
        migrationsRun: Object.keys(MIGRATIONS),
      });
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(parent, 'hrserve'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, SQLITE_FILE))).isFile()).toBe(true);
    } finally {
      await store.close();
    }
    const again = await openStore({ service: 'llmchat', dataDir });
    expect(again.migrationsRun).toEqual([]);
    await again.close();
  });

  it('needs a data directory or a database URL', async () => {
    await expect(openStore({ service: 'test' })).rejects.toThrow(
      /pass dataDir \(see serviceDataDir\(\)\) for SQLite, or databaseUrl for Postgres/,
    );
  });
});
