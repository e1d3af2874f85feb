import { createServer } from 'node:net';
import { type PostgresServer, startPostgres } from '@hrserve/test-support/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from './faults.js';
import { openStore } from './store.js';
import { message, newId, newResponse } from './test/fixtures.js';

/** A loopback port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('a Postgres store whose server goes away', () => {
  // A server of its own: stopping the run's shared one would fail the other files.
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.dispose());

  it('fails calls as unreachable while it is down, writes nothing, and serves again once it is back', async () => {
    const store = await openStore({
      service: 'test',
      databaseUrl: await server.createDatabase(),
      postgres: { connectTimeoutMs: 2_000 },
    });
    try {
      const before = newResponse();
      await store.responses.create(before);

      await server.stop();
      const error: unknown = await store.responses.get(before.id).catch((caught) => caught);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ fault: 'unreachable' });
      const during = newResponse();
      await expect(store.responses.create(during)).rejects.toMatchObject({
        name: 'StoreUnavailableError',
        fault: 'unreachable',
      });
      await expect(store.ping()).rejects.toMatchObject({ fault: 'unreachable' });

      await server.start();
      // The pool connects again on its own: no new store, no restart.
      await vi.waitFor(() => store.ping(), { timeout: 15_000, interval: 100 });
      expect(await store.responses.get(before.id)).toMatchObject({ id: before.id });
      expect(await store.responses.get(during.id)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('fails a write in flight as unreachable when the server stops under it, and keeps nothing of it', async () => {
    const databaseUrl = await server.createDatabase();
    const store = await openStore({
      service: 'test',
      databaseUrl,
      postgres: { connectTimeoutMs: 2_000 },
    });
    // Another session holds the conversation's row, so the append below stops half-way
    // (inside its transaction, waiting for the row) until the server goes.
    const holder = new pg.Client({ connectionString: databaseUrl });
    holder.on('error', () => {});
    try {
      const conversation = await store.conversations.create({
        id: newId('conv'),
        createdAt: 1,
        metadata: null,
        items: [],
      });
      await holder.connect();
      await holder.query('begin');
      await holder.query('select id from conversations where id = $1 for update', [
        conversation.id,
      ]);
      const append = store.conversations
        .appendItems(conversation.id, [message('in flight')], 2)
        .catch((caught: unknown) => caught);
      await vi.waitFor(
        async () => {
          const waiting = await holder.query(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
          );
          expect(waiting.rows[0]?.n).toBe(1);
        },
        { timeout: 10_000, interval: 50 },
      );

      await server.stop();
      const error = await append;
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ fault: 'unreachable' });

      await server.start();
      await vi.waitFor(() => store.ping(), { timeout: 15_000, interval: 100 });
      expect(
        (await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' }))?.data,
      ).toEqual([]);
    } finally {
      await holder.end().catch(() => {});
      await store.close();
    }
  });

  it('fails to open as unreachable when nothing listens', async () => {
    const port = await closedPort();
    const opening = openStore({
      service: 'test',
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/hrserve`,
    });
    await expect(opening).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(opening).rejects.toMatchObject({ fault: 'unreachable' });
  });

  it('fails to open as misconfigured when the database does not exist', async () => {
    const url = new URL(server.url);
    url.pathname = '/no_such_database';
    await expect(openStore({ service: 'test', databaseUrl: url.toString() })).rejects.toMatchObject(
      { fault: 'misconfigured', message: expect.stringContaining('does not exist') },
    );
  });

  it('refuses a URL that is not postgres://, saying how to write one', async () => {
    await expect(
      openStore({ service: 'test', databaseUrl: 'mysql://localhost/x' }),
    ).rejects.toThrow(/postgres:\/\/user:password@host:5432\/database/);
  });
});
