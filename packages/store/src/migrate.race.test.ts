import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations/index.js';
import { openStore } from './store.js';
import { BACKENDS, removeTestDirectories, type StoreLocation } from './test/backends.js';

afterAll(removeTestDirectories);

const CHILD = fileURLToPath(new URL('./__fixtures__/open-store.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Opener {
  child: ChildProcess;
  /** Resolves once the child has loaded the store and waits for "go". */
  ready: Promise<void>;
  /** Resolves with the migrations it ran, rejects with its stderr when it fails. */
  done: Promise<string[]>;
}

/** A process that opens the store at `location` when told to; killed after 30 s at most. */
function opener(location: StoreLocation): Opener {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(location)], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith('ready\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`the child exited before it was ready: ${stderr}`)));
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      const result = stdout.split('\n').find((line) => line.startsWith('{'));
      if (code === 0 && result) resolve((JSON.parse(result) as { ran: string[] }).ran);
      else reject(new Error(`the child failed (${code ?? signal}): ${stderr}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, done };
}

describe.each(BACKENDS)('two processes opening one new $name store at once', (backend) => {
  beforeAll(() => {
    if (!existsSync(BUILT)) {
      throw new Error(
        'the child processes load the built package: build it first (./pnpm exec turbo run build --filter=@hrserve/store)',
      );
    }
  });

  it('migrates once, and both open it', async () => {
    const location = await backend.fresh();
    const openers = [opener(location), opener(location)];
    await Promise.all(openers.map((one) => one.ready));
    // Both were waiting: they start migrating within the same instant.
    for (const one of openers) one.child.stdin?.end('go\n');
    const ran = await Promise.all(openers.map((one) => one.done));

    // Each migration ran exactly once, in one process or the other.
    expect(ran.flat().sort()).toEqual(Object.keys(MIGRATIONS).sort());
    const after = await openStore({ service: 'test', ...location });
    try {
      expect(after.migrationsRun).toEqual([]);
      expect(await after.conversations.list({ limit: 1, order: 'asc' })).toMatchObject({
        data: [],
      });
    } finally {
      await after.close();
    }
  });
});
