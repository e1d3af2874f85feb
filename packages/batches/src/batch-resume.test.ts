import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createDatabase } from '@hrserve/test-support/postgres';
import { describe, expect, inject, it } from 'vitest';
import { startEchoService } from './__fixtures__/echo-service.js';
import {
  clientOf,
  echoLine,
  jsonl,
  linesOf,
  runBatch,
  upload,
  waitFor,
} from './test/batch-client.js';

const ECHO = '/v1/echo' as '/v1/completions';

describe('batches across stops, instances and keys', () => {
  it('runs lines without a key once the batch was created with one; nothing works without a key', async () => {
    const service = await startEchoService({ env: { API_KEYS: 'secret-key' } });
    try {
      await expect(clientOf(service, 'wrong').files.list()).rejects.toMatchObject({ status: 401 });
      const batch = await runBatch(clientOf(service, 'secret-key'), [echoLine('a'), echoLine('b')]);
      expect(batch).toMatchObject({
        status: 'completed',
        request_counts: { completed: 2, failed: 0 },
      });
    } finally {
      await service.close();
    }
  });

  it('resumes a batch after the service stopped mid-way: every custom_id once, none lost', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hrserve-batches-resume-'));
    const lines = Array.from({ length: 10 }, (_, i) => echoLine(`r${i}`, { delay_ms: 150 }));
    const first = await startEchoService({ store: { dataDir } });
    const client = clientOf(first);
    const file = await upload(client, jsonl(lines));
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: ECHO,
      completion_window: '24h',
    });
    for (let i = 0; i < 200; i++) {
      const batch = await client.batches.retrieve(created.id);
      if ((batch.request_counts?.completed ?? 0) >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // A stop in the middle: the running lines are given back, not lost or half-written.
    await first.close();
    const second = await startEchoService({ store: { dataDir } });
    try {
      const again = clientOf(second);
      const batch = await waitFor(again, created.id);
      expect(batch).toMatchObject({
        status: 'completed',
        request_counts: { total: 10, completed: 10, failed: 0 },
      });
      const output = await linesOf(again, batch.output_file_id);
      expect(output.map((line) => line.custom_id).sort()).toEqual(
        lines.map((line) => line.custom_id).sort(),
      );
      // The second instance ran what the first had not finished.
      expect(second.begun.length).toBeGreaterThan(0);
      expect(second.begun.length).toBeLessThan(10);
    } finally {
      await second.close();
    }
  });

  it('shares one batch between two instances on one Postgres: each line runs once', async () => {
    const databaseUrl = await createDatabase(inject('postgresAdminUrl'));
    // Instances sharing a database share the files directory (one host here).
    const filesDir = await mkdtemp(join(tmpdir(), 'hrserve-batches-shared-'));
    const a = await startEchoService({ name: 'a', store: { databaseUrl }, filesDir });
    const b = await startEchoService({ name: 'b', store: { databaseUrl }, filesDir });
    try {
      const lines = Array.from({ length: 30 }, (_, i) => echoLine(`s${i}`, { delay_ms: 40 }));
      const batch = await runBatch(clientOf(a), lines);
      expect(batch).toMatchObject({
        status: 'completed',
        request_counts: { total: 30, completed: 30, failed: 0 },
      });
      // Either instance serves the result.
      const output = await linesOf(clientOf(b), batch.output_file_id);
      expect(output.map((line) => line.custom_id).sort()).toEqual(
        lines.map((line) => line.custom_id).sort(),
      );
      const servedBy = new Set(output.map((line) => line.response?.body.served_by));
      expect(servedBy).toEqual(new Set(['a', 'b']));
      // No line began twice anywhere.
      const begun = [...a.begun, ...b.begun].filter((text) => text.startsWith('s'));
      expect(begun.length).toBe(30);
      expect(new Set(begun).size).toBe(30);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('expires a batch past its window: what finished is kept, the rest never runs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hrserve-batches-expire-'));
    const service = await startEchoService({ store: { dataDir } });
    try {
      const client = clientOf(service);
      const lines = Array.from({ length: 12 }, (_, i) => echoLine(`x${i}`, { delay_ms: 200 }));
      const file = await upload(client, jsonl(lines));
      const created = await client.batches.create({
        input_file_id: file.id,
        endpoint: ECHO,
        completion_window: '24h',
      });
      await waitFor(client, created.id, ['in_progress']);
      for (let i = 0; i < 200; i++) {
        if (((await client.batches.retrieve(created.id)).request_counts?.completed ?? 0) >= 2)
          break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // Its 24 hours are over (the window moved, as a clock would).
      const database = new DatabaseSync(join(dataDir, 'store.sqlite'));
      try {
        database.prepare('UPDATE batches SET expires_at = 0 WHERE id = ?').run(created.id);
      } finally {
        database.close();
      }
      const batch = await waitFor(client, created.id);
      expect(batch.status).toBe('expired');
      expect(batch.expired_at).toBeGreaterThan(0);
      const done = batch.request_counts?.completed ?? 0;
      expect(done).toBeGreaterThanOrEqual(2);
      expect(done).toBeLessThan(12);
      expect(await linesOf(client, batch.output_file_id)).toHaveLength(done);
      const begun = service.begun.length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(service.begun.length).toBe(begun);
    } finally {
      await service.close();
    }
  });
});
