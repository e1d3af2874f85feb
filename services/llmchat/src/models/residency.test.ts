import { describe, expect, it, vi } from 'vitest';
import { FOREVER } from './keep-alive.js';
import {
  ModelLoadFailedError,
  ModelLoadTimeoutError,
  ModelsClosedError,
  ModelTooLargeError,
  NoRoomError,
} from './model-errors.js';
import type { ModelEntry } from './registry.js';
import { Residency, type ResidencyOptions } from './residency.js';

/** A model that only records whether it was freed. */
class FakeModel {
  disposed = false;
  constructor(readonly name: string) {}
  async dispose() {
    this.disposed = true;
  }
}

const entry = (name: string): ModelEntry => ({
  name,
  aliases: [],
  source: `/models/${name}.gguf`,
  origin: 'LLMCHAT_MODELS',
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A residency over fake models of the given sizes; loads take `loadMs`. */
function residency(
  sizes: Record<string, number>,
  options: Partial<ResidencyOptions<FakeModel>> & { loadMs?: number } = {},
) {
  const events: string[] = [];
  const loads: string[] = [];
  const subject = new Residency<FakeModel>({
    loader: async ({ name }) => {
      const size = sizes[name];
      if (size === undefined) throw new Error(`no file for ${name}`);
      return {
        estimatedRamBytes: size,
        overBudgetMessage: (budget) => `${name} needs ${size}, over ${budget}`,
        load: async () => {
          loads.push(name);
          await sleep(options.loadMs ?? 0);
          return new FakeModel(name);
        },
      };
    },
    maxLoaded: 3,
    budgetBytes: Number.POSITIVE_INFINITY,
    loadTimeoutMs: 1_000,
    keepAliveMs: () => FOREVER,
    onLoaded: ({ entry }) => events.push(`loaded ${entry.name}`),
    onUnloaded: ({ entry }, reason) => events.push(`unloaded ${entry.name}: ${reason}`),
    ...options,
  });
  const loaded = () => subject.loaded().map((resident) => resident.entry.name);
  return { subject, events, loads, loaded };
}

describe('Residency', () => {
  it('loads a model once for concurrent requests and lends it to each', async () => {
    const { subject, loads } = residency({ a: 10 }, { loadMs: 20 });
    const [first, second] = await Promise.all([
      subject.acquire(entry('a')),
      subject.acquire(entry('a')),
    ]);
    expect(loads).toEqual(['a']);
    expect(first.model).toBe(second.model);
    expect(subject.loaded()[0]?.users).toBe(2);
    first.release();
    first.release(); // idempotent
    expect(subject.loaded()[0]?.users).toBe(1);
  });

  it('unloads the least recently used idle model to stay within the count', async () => {
    const { subject, events, loaded } = residency({ a: 1, b: 1, c: 1 }, { maxLoaded: 2 });
    (await subject.acquire(entry('a'))).release();
    await sleep(2);
    (await subject.acquire(entry('b'))).release();
    await sleep(2);
    (await subject.acquire(entry('a'))).release(); // a is now the more recent
    await sleep(2);
    (await subject.acquire(entry('c'))).release();
    expect(loaded().sort()).toEqual(['a', 'c']);
    expect(events).toContain('unloaded b: making room for c');
  });

  it('keeps the memory budget, and refuses a model that can never fit, saying why', async () => {
    const { subject, loaded } = residency({ a: 60, b: 60, huge: 150 }, { budgetBytes: 100 });
    const a = await subject.acquire(entry('a'));
    a.release();
    (await subject.acquire(entry('b'))).release();
    expect(loaded()).toEqual(['b']);
    const refused = subject.acquire(entry('huge'));
    await expect(refused).rejects.toBeInstanceOf(ModelTooLargeError);
    await expect(refused).rejects.toThrow('huge needs 150, over 100');
    expect(loaded()).toEqual(['b']);
  });

  it('waits for room while every model is in use, then loads', async () => {
    const { subject, loaded } = residency({ a: 1, b: 1 }, { maxLoaded: 1 });
    const a = await subject.acquire(entry('a'));
    const b = subject.acquire(entry('b'));
    await sleep(30);
    expect(loaded()).toEqual(['a']);
    a.release();
    expect((await b).model.name).toBe('b');
    expect(loaded()).toEqual(['b']);
  });

  it('gives up waiting for room after the load timeout (NoRoomError)', async () => {
    const { subject } = residency({ a: 1, b: 1 }, { maxLoaded: 1, loadTimeoutMs: 50 });
    const a = await subject.acquire(entry('a'));
    await expect(subject.acquire(entry('b'))).rejects.toBeInstanceOf(NoRoomError);
    a.release();
  });

  it('stops waiting for a slow load at the timeout; the load finishes and serves the next request', async () => {
    const { subject, loads } = residency({ a: 1 }, { loadMs: 120, loadTimeoutMs: 40 });
    await expect(subject.acquire(entry('a'))).rejects.toBeInstanceOf(ModelLoadTimeoutError);
    await sleep(150);
    expect(subject.loaded().map((r) => [r.entry.name, r.users])).toEqual([['a', 0]]);
    (await subject.acquire(entry('a'))).release();
    expect(loads).toEqual(['a']);
  });

  it('reports a failed load as ModelLoadFailedError with the cause, and tells the log', async () => {
    const failures: unknown[] = [];
    const { subject } = residency({}, { onLoadFailed: (_entry, error) => failures.push(error) });
    const attempt = subject.acquire(entry('missing'));
    await expect(attempt).rejects.toBeInstanceOf(ModelLoadFailedError);
    await expect(attempt).rejects.toMatchObject({ cause: failures[0] });
    expect(String(failures[0])).toContain('no file for missing');
  });

  it('unloads after the keep-alive, at once for 0, never for FOREVER', async () => {
    const keepAlive: Record<string, number> = { short: 30, zero: 0, forever: FOREVER };
    const { subject, loaded } = residency(
      { short: 1, zero: 1, forever: 1 },
      { keepAliveMs: ({ name }) => keepAlive[name] ?? FOREVER },
    );
    for (const name of ['short', 'zero', 'forever']) (await subject.acquire(entry(name))).release();
    await sleep(5);
    expect(loaded().sort()).toEqual(['forever', 'short']);
    await sleep(60);
    expect(loaded()).toEqual(['forever']);
  });

  it('a waiter whose signal aborts stops waiting for the load; the load goes on for the next', async () => {
    const { subject, loads, loaded } = residency({ a: 10 }, { loadMs: 80 });
    const controller = new AbortController();
    const waiting = subject.acquire(entry('a'), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client went away')), 10);
    await expect(waiting).rejects.toThrow('client went away');
    const lease = await subject.acquire(entry('a'));
    expect(loads).toEqual(['a']);
    expect(loaded()).toEqual(['a']);
    expect(subject.loaded()[0]?.users).toBe(1);
    lease.release();
  });

  it('a keep-alive longer than setTimeout can wait (~24.8 days) still means what it says', async () => {
    const { subject, loaded } = residency({ a: 10 });
    const lease = await subject.acquire(entry('a'), { keepAliveMs: 2 ** 31 + 60_000 });
    vi.useFakeTimers();
    try {
      lease.release();
      // Node fires an over-long timer at once: the model used to be unloaded right here.
      await vi.advanceTimersByTimeAsync(1_000);
      expect(loaded()).toEqual(['a']);
      await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
      expect(loaded()).toEqual(['a']);
      await vi.advanceTimersByTimeAsync(61_000);
      expect(loaded()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('takes a request keep-alive: 0 unloads once its request is done', async () => {
    const { subject, loaded } = residency({ a: 1 });
    const lease = await subject.acquire(entry('a'), { keepAliveMs: 0 });
    expect(loaded()).toEqual(['a']);
    lease.release();
    await sleep(5);
    expect(loaded()).toEqual([]);
  });

  it('on close, refuses new leases and frees no model before its requests release it', async () => {
    const { subject } = residency({ a: 1 });
    const lease = await subject.acquire(entry('a'));
    const model = lease.model as FakeModel;
    const closed = subject.close();
    await expect(subject.acquire(entry('a'))).rejects.toBeInstanceOf(ModelsClosedError);
    await sleep(30);
    expect(model.disposed).toBe(false);
    lease.release();
    await closed;
    expect(model.disposed).toBe(true);
    expect(subject.loaded()).toEqual([]);
  });

  it('on close, frees a model whose load was in flight instead of registering it', async () => {
    const { subject, loads } = residency({ a: 1 }, { loadMs: 40 });
    const request = subject.acquire(entry('a'));
    await sleep(5);
    await subject.close();
    await expect(request).rejects.toBeInstanceOf(ModelsClosedError);
    expect(loads).toEqual(['a']);
    expect(subject.loaded()).toEqual([]);
  });
});
