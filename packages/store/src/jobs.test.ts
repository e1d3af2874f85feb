import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewJob } from './jobs.js';
import { openStore, type Store } from './store.js';
import { BACKENDS, removeTestDirectories } from './test/backends.js';
import { newId } from './test/fixtures.js';

afterAll(removeTestDirectories);

/** The value, which a test expects to be there. */
function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

const jobsOf = (groupId: string, count: number, queue = 'test'): NewJob[] =>
  Array.from({ length: count }, (_, position) => ({
    id: `${groupId}:${position}`,
    queue,
    groupId,
    position,
    payload: { line: position },
  }));

describe.each(BACKENDS)('jobs and batches on $name', (backend) => {
  let store: Store;
  let location: Awaited<ReturnType<typeof backend.fresh>>;
  beforeAll(async () => {
    location = await backend.fresh();
    store = await openStore({ service: 'test', ...location });
  });
  afterAll(() => store?.close());

  it('claims the oldest queued jobs under a lease, and a finish only by the lease owner', async () => {
    const queue = newId('queue');
    const group = newId('group');
    await store.jobs.enqueue(jobsOf(group, 3, queue), 1_000);
    const claimed = await store.jobs.claim(queue, {
      owner: 'a',
      leaseMs: 10_000,
      limit: 2,
      now: 2_000,
    });
    expect(claimed.map((job) => [job.position, job.payload, job.attempts])).toEqual([
      [0, { line: 0 }, 1],
      [1, { line: 1 }, 1],
    ]);
    const [first, second] = claimed;
    expect(
      await store.jobs.finish(must(first).id, 'b', { status: 'succeeded', result: 1 }, 3_000),
    ).toBe(false);
    expect(
      await store.jobs.finish(must(first).id, 'a', { status: 'succeeded', result: 1 }, 3_000),
    ).toBe(true);
    expect(
      await store.jobs.finish(must(second).id, 'a', { status: 'failed', result: 2 }, 3_000),
    ).toBe(true);
    expect(await store.jobs.counts(group)).toEqual({
      queued: 1,
      running: 0,
      succeeded: 1,
      failed: 1,
      cancelled: 0,
      total: 3,
    });
    expect(await store.jobs.finished(group, -1, 10)).toEqual([
      { position: 0, status: 'succeeded', result: 1 },
      { position: 1, status: 'failed', result: 2 },
    ]);
  });

  it('gives a job whose lease ran out to another worker; the first one can no longer finish it', async () => {
    const queue = newId('queue');
    const group = newId('group');
    await store.jobs.enqueue(jobsOf(group, 1, queue), 1_000);
    const [job] = await store.jobs.claim(queue, { owner: 'a', leaseMs: 100, limit: 5, now: 1_000 });
    expect(
      await store.jobs.claim(queue, { owner: 'b', leaseMs: 100, limit: 5, now: 1_050 }),
    ).toEqual([]);
    expect(await store.jobs.renew('a', [must(job).id], 100, 1_080)).toEqual([must(job).id]);
    expect(
      await store.jobs.claim(queue, { owner: 'b', leaseMs: 100, limit: 5, now: 1_150 }),
    ).toEqual([]);
    const [again] = await store.jobs.claim(queue, {
      owner: 'b',
      leaseMs: 100,
      limit: 5,
      now: 1_200,
    });
    expect(again).toMatchObject({ id: must(job).id, attempts: 2 });
    expect(await store.jobs.renew('a', [must(job).id], 100, 1_210)).toEqual([]);
    expect(
      await store.jobs.finish(must(job).id, 'a', { status: 'succeeded', result: 'late' }, 1_220),
    ).toBe(false);
    expect(await store.jobs.release(must(job).id, 'b')).toBe(true);
    const [third] = await store.jobs.claim(queue, {
      owner: 'c',
      leaseMs: 100,
      limit: 5,
      now: 1_230,
    });
    // A release is not an attempt.
    expect(third?.attempts).toBe(2);
  });

  // SQLite serves one process (see SqliteOptions): several stores on one file are Postgres' case.
  it.runIf(backend.name === 'postgres')(
    'hands each job to exactly one of several stores claiming at once',
    async () => {
      const others = await Promise.all(
        [1, 2].map(() => openStore({ service: 'test', ...location })),
      );
      try {
        const queue = newId('queue');
        const group = newId('group');
        await store.jobs.enqueue(jobsOf(group, 60, queue), 1_000);
        const workers = [store, ...others].map(async (worker, index) => {
          const mine: number[] = [];
          for (;;) {
            const claimed = await worker.jobs.claim(queue, {
              owner: `w${index}`,
              leaseMs: 60_000,
              limit: 3,
              now: 2_000,
            });
            if (claimed.length === 0) return mine;
            mine.push(...claimed.map((job) => job.position));
          }
        });
        const claimed = (await Promise.all(workers)).flat();
        expect(claimed.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      } finally {
        await Promise.all(others.map((other) => other.close()));
      }
    },
  );

  it('moves a batch through its steps under a lease: start queues its jobs, cancel stops them, finish drops them', async () => {
    const id = newId('batch');
    await store.batches.create(
      {
        id,
        status: 'validating',
        createdAt: 1_000,
        expiresAt: 1_000_000,
        traceParent: null,
        body: { id },
      },
      { owner: 'a', until: 2_000 },
    );
    // Leased to its creator: nobody else takes the validation.
    expect(await store.batches.claimStep({ owner: 'b', until: 3_000 }, 1_500)).toBeUndefined();
    expect(
      await store.batches.start(id, 'b', jobsOf(id, 2), { id, status: 'in_progress' }, 1_600),
    ).toBe(false);
    expect(
      await store.batches.start(id, 'a', jobsOf(id, 2), { id, status: 'in_progress' }, 1_600),
    ).toBe(true);
    expect((await store.jobs.counts(id)).queued).toBe(2);
    // Jobs left to run: no step to take.
    expect(await store.batches.claimStep({ owner: 'b', until: 3_000 }, 1_700)).toBeUndefined();
    const cancelled = await store.batches.cancel(id, { id, status: 'cancelling' }, 1_800);
    expect(cancelled?.status).toBe('cancelling');
    expect(await store.batches.cancel(id, { id }, 1_800)).toBeUndefined();
    expect((await store.jobs.counts(id)).cancelled).toBe(2);
    const step = await store.batches.claimStep({ owner: 'b', until: 3_000 }, 1_900);
    expect(step).toMatchObject({ id, status: 'cancelling' });
    expect(
      await store.batches.finish(id, 'a', { status: 'cancelled', body: { id }, files: [] }),
    ).toBe(false);
    const file = {
      id: newId('file'),
      purpose: 'batch_output',
      filename: 'out.jsonl',
      bytes: 3,
      lines: 1,
      createdAt: 2_000,
      expiresAt: null,
      storedName: 'out',
    };
    expect(
      await store.batches.finish(id, 'b', {
        status: 'cancelled',
        body: { id, status: 'cancelled' },
        files: [file],
      }),
    ).toBe(true);
    expect(await store.batches.get(id)).toMatchObject({ status: 'cancelled' });
    expect((await store.jobs.counts(id)).total).toBe(0);
    expect(await store.files.get(file.id)).toEqual(file);
  });

  it('offers a batch whose jobs all finished, or whose window passed, for finalizing', async () => {
    const done = newId('batch');
    const late = newId('batch');
    const queue = newId('queue');
    for (const id of [done, late]) {
      await store.batches.create(
        {
          id,
          status: 'validating',
          createdAt: 1_000,
          expiresAt: id === late ? 5_000 : 1e12,
          traceParent: null,
          body: {},
        },
        { owner: 'a', until: 2_000 },
      );
      await store.batches.start(id, 'a', jobsOf(id, 1, queue), {}, 1_500);
    }
    const [job] = await store.jobs.claim(queue, {
      owner: 'a',
      leaseMs: 60_000,
      limit: 1,
      now: 2_500,
    });
    expect(job?.groupId).toBe(done);
    expect(await store.batches.claimStep({ owner: 'x', until: 10_000 }, 2_600)).toBeUndefined();
    await store.jobs.finish(must(job).id, 'a', { status: 'succeeded', result: {} }, 2_700);
    expect(await store.batches.claimStep({ owner: 'x', until: 10_000 }, 3_000)).toMatchObject({
      id: done,
    });
    expect(await store.batches.claimStep({ owner: 'y', until: 10_000 }, 4_000)).toBeUndefined();
    expect(await store.batches.claimStep({ owner: 'y', until: 10_000 }, 6_000)).toMatchObject({
      id: late,
    });
  });
});
