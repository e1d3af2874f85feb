import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { RetentionOptions } from './options.js';
import { openStore, type Store } from './store.js';
import { BACKENDS, removeTestDirectories, type StoreLocation } from './test/backends.js';
import { newResponse } from './test/fixtures.js';

afterAll(removeTestDirectories);

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

describe.each(BACKENDS)('retention on $name', (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  /** A store in a new database: the limits apply to every response in it. */
  async function storeWith(retention: RetentionOptions, location?: StoreLocation) {
    const where = location ?? (await backend.fresh());
    const store = await openStore({ service: 'test', retention, ...where });
    opened.push(store);
    return { store, where };
  }

  /** Stores responses created `ageMs` before NOW, oldest first. */
  async function seed(store: Store, ages: number[], status: 'completed' | 'in_progress') {
    const ids: string[] = [];
    for (const age of ages) {
      const response = newResponse({ status, createdAt: NOW - age, inputs: 2 });
      await store.responses.create(response);
      ids.push(response.id);
    }
    return ids;
  }

  async function remaining(store: Store): Promise<string[]> {
    const page = await store.responses.list({ limit: 1000, order: 'asc' });
    return page.data.map((response) => response.id);
  }

  it('deletes responses older than the TTL, whatever their status, with their input items', async () => {
    // intervalMs: the background pruner stays out of the way; prune() is called with NOW.
    const { store } = await storeWith({ ttlMs: 24 * HOUR, intervalMs: 3_600_000 });
    const old = await seed(store, [48 * HOUR, 30 * HOUR], 'completed');
    const running = await seed(store, [25 * HOUR], 'in_progress');
    const young = await seed(store, [2 * HOUR, 1 * HOUR], 'completed');

    expect(await store.prune(NOW)).toEqual({ expired: 3, overflow: 0, ran: true });
    expect(await remaining(store)).toEqual(young);
    for (const id of [...old, ...running]) {
      expect(await store.responses.listInputItems(id, { limit: 1, order: 'asc' })).toBeUndefined();
    }
    expect(await store.prune(NOW)).toEqual({ expired: 0, overflow: 0, ran: true });
  });

  it('keeps the newest responses up to the count, and running ones whatever the count', async () => {
    const { store } = await storeWith({ maxResponses: 3, intervalMs: 3_600_000 });
    const oldest = await seed(store, [50, 40], 'completed');
    const running = await seed(store, [35], 'in_progress');
    const newest = await seed(store, [30, 20, 10], 'completed');
    expect(oldest).toHaveLength(2);

    expect(await store.prune(NOW)).toEqual({ expired: 0, overflow: 2, ran: true });
    expect(await remaining(store)).toEqual([...running, ...newest]);
  });

  it('deletes in batches until nothing is left over', async () => {
    const { store } = await storeWith({ ttlMs: HOUR, batchSize: 2, intervalMs: 3_600_000 });
    const ages = Array.from({ length: 7 }, (_, index) => 2 * HOUR + index);
    await seed(store, ages, 'completed');
    const young = await seed(store, [0], 'completed');
    expect(await store.prune(NOW)).toEqual({ expired: 7, overflow: 0, ran: true });
    expect(await remaining(store)).toEqual(young);
  });

  it('prunes in the background once opened, and stops with the store', async () => {
    const { store, where } = await storeWith({});
    // Created long ago by the clock the pruner reads (Date.now()).
    const old = await seed(store, [NOW - 1_000], 'completed');
    const { store: pruning } = await storeWith({ ttlMs: HOUR, intervalMs: 3_600_000 }, where);
    await vi.waitFor(
      async () => expect(await pruning.responses.get(old[0] ?? '')).toBeUndefined(),
      { timeout: 10_000, interval: 50 },
    );
    await pruning.close();
    // Closed: its timer is gone, so closing again and leaving the test do nothing more.
    await pruning.close();
  });

  it('refuses limits that make no sense', async () => {
    const where = await backend.fresh();
    await expect(
      openStore({ service: 'test', retention: { ttlMs: -1 }, ...where }),
    ).rejects.toThrow(/retention.ttlMs must be a whole number of 0 or more/);
    await expect(
      openStore({ service: 'test', retention: { batchSize: 0 }, ...where }),
    ).rejects.toThrow(/retention.batchSize must be a whole number above 0/);
  });

  it.runIf(backend.name === 'postgres')(
    'lets one instance prune at a time on Postgres',
    async () => {
      const { store, where } = await storeWith({ ttlMs: HOUR, intervalMs: 3_600_000 });
      await seed(store, [2 * HOUR], 'completed');
      // Another instance holding the pruner's lock: this one skips its turn.
      const other = new pg.Client({ connectionString: where.databaseUrl });
      await other.connect();
      try {
        await other.query('select pg_advisory_lock(7526752432338593025)');
        expect(await store.prune(NOW)).toEqual({ expired: 0, overflow: 0, ran: false });
        await other.query('select pg_advisory_unlock(7526752432338593025)');
        expect(await store.prune(NOW)).toEqual({ expired: 1, overflow: 0, ran: true });
      } finally {
        await other.end();
      }
    },
  );
});
