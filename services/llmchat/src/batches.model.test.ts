import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support';
import { type PostgresServer, startPostgres } from '@hrserve/test-support/postgres';
import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORIES_MODEL, startLlmchat, type TestServer } from './__fixtures__/llmchat-server.js';

/*
 * Batches on llmchat as clients use them (the official openai client): chat completions,
 * completions and responses; validation; cancel; kill -9 mid-batch; two instances on one
 * PostgreSQL sharing a batch.
 */

const model = 'stories260K';
const LLMCHAT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const FINISHED = ['completed', 'failed', 'cancelled', 'expired'];

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

function chatLine(id: string, body: Record<string, unknown> = {}) {
  return {
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: `Story ${id}` }], max_tokens: 8, ...body },
  };
}

function jsonl(lines: unknown[]): string {
  return `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`;
}

async function submit(
  openai: OpenAI,
  lines: unknown[],
  endpoint: '/v1/chat/completions' | '/v1/completions' | '/v1/responses' = '/v1/chat/completions',
) {
  const file = await openai.files.create({
    file: await toFile(Buffer.from(jsonl(lines)), 'batch.jsonl'),
    purpose: 'batch',
  });
  return openai.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' });
}

/** Polls until the batch is in one of `statuses` (bounded in time). */
async function waitFor(
  openai: OpenAI,
  id: string,
  until: (batch: Batch) => boolean = (batch) => FINISHED.includes(batch.status),
  timeoutMs = 120_000,
): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const batch = await openai.batches.retrieve(id);
    if (until(batch)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`batch ${id} did not get there in ${timeoutMs} ms`);
}

async function linesOf(openai: OpenAI, fileId: string | null | undefined): Promise<OutputLine[]> {
  if (!fileId) return [];
  const text = await (await openai.files.content(fileId)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as OutputLine);
}

describe('batches on llmchat', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({
      DATA_DIR: await mkdtemp(join(tmpdir(), 'llmchat-batches-')),
      LLMCHAT_PARALLEL: '2',
    });
  });
  afterAll(() => server?.close());

  it('runs a chat completions batch: one answer per line, a missing model in the error file', async () => {
    const lines = [
      ...Array.from({ length: 5 }, (_, i) => chatLine(`chat-${i}`)),
      chatLine('no-such-model', { model: 'no-such-model' }),
    ];
    const created = await submit(server.openai, lines);
    expect(created.status).toBe('validating');
    const batch = await waitFor(server.openai, created.id);
    expect(batch).toMatchObject({
      status: 'completed',
      endpoint: '/v1/chat/completions',
      request_counts: { total: 6, completed: 5, failed: 1 },
    });
    expect(batch.usage?.output_tokens).toBeGreaterThan(0);
    const output = await linesOf(server.openai, batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(lines.slice(0, 5).map((l) => l.custom_id));
    for (const line of output) {
      expect(line.response).toMatchObject({
        status_code: 200,
        request_id: line.id,
        body: {
          object: 'chat.completion',
          model,
          choices: [expect.objectContaining({ index: 0 })],
        },
      });
    }
    const errors = await linesOf(server.openai, batch.error_file_id);
    expect(errors).toEqual([
      expect.objectContaining({
        custom_id: 'no-such-model',
        response: expect.objectContaining({
          status_code: 404,
          body: { error: expect.objectContaining({ param: 'model' }) },
        }),
      }),
    ]);
    const listed = await server.openai.batches.list();
    expect(listed.data.map((item) => item.id)).toContain(batch.id);
  });

  it('runs completions and responses batches', async () => {
    const completions = await submit(
      server.openai,
      [0, 1].map((i) => ({
        custom_id: `c${i}`,
        method: 'POST',
        url: '/v1/completions',
        body: { model, prompt: 'Once upon a time', max_tokens: 6 },
      })),
      '/v1/completions',
    );
    const responses = await submit(
      server.openai,
      [0, 1].map((i) => ({
        custom_id: `r${i}`,
        method: 'POST',
        url: '/v1/responses',
        body: { model, input: 'Tom had a ball.', max_output_tokens: 6 },
      })),
      '/v1/responses',
    );
    const [doneCompletions, doneResponses] = await Promise.all([
      waitFor(server.openai, completions.id),
      waitFor(server.openai, responses.id),
    ]);
    expect(doneCompletions.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(doneResponses.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const [completion] = await linesOf(server.openai, doneCompletions.output_file_id);
    expect(completion?.response?.body).toMatchObject({ object: 'text_completion' });
    const [response] = await linesOf(server.openai, doneResponses.output_file_id);
    expect(response?.response?.body).toMatchObject({ object: 'response', status: 'incomplete' });
    // A batch's response is stored like any other.
    const stored = await server.openai.responses.retrieve(String(response?.response?.body.id));
    expect(stored.id).toBe(response?.response?.body.id);
  });

  it('fails a batch whose lines the route would refuse, naming each line, and runs none', async () => {
    const created = await submit(server.openai, [
      chatLine('fine'),
      { custom_id: 'no-messages', method: 'POST', url: '/v1/chat/completions', body: { model } },
      chatLine('n-too-big', { n: 50 }),
      chatLine('background', {}),
    ]);
    const batch = await waitFor(server.openai, created.id);
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data?.map((error) => [error.line, error.param])).toEqual([
      [2, 'body.messages'],
    ]);
    const responses = await submit(
      server.openai,
      [
        {
          custom_id: 'bg',
          method: 'POST',
          url: '/v1/responses',
          body: { model, input: 'x', background: true },
        },
      ],
      '/v1/responses',
    );
    const refused = await waitFor(server.openai, responses.id);
    expect(refused.errors?.data?.[0]).toMatchObject({ line: 1, param: 'body.background' });
    await expect(
      server.openai.batches.create({
        input_file_id: 'file-none',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 404, error: { param: 'input_file_id' } });
    const file = await server.openai.files.create({
      file: await toFile(Buffer.from(jsonl([chatLine('x')])), 'b.jsonl'),
      purpose: 'batch',
    });
    await expect(
      server.openai.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/embeddings',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'endpoint', message: expect.stringContaining('/v1/chat/completions') },
    });
  });

  it('cancels a running batch; cancelling a finished one is a 409', async () => {
    const created = await submit(
      server.openai,
      Array.from({ length: 30 }, (_, i) => chatLine(`long-${i}`, { max_tokens: 200 })),
    );
    await waitFor(
      server.openai,
      created.id,
      (batch) => (batch.request_counts?.completed ?? 0) >= 1,
    );
    await server.openai.batches.cancel(created.id);
    const batch = await waitFor(server.openai, created.id);
    expect(batch.status).toBe('cancelled');
    const done = batch.request_counts?.completed ?? 0;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(30);
    expect(await linesOf(server.openai, batch.output_file_id)).toHaveLength(done);
    await expect(server.openai.batches.cancel(created.id)).rejects.toMatchObject({ status: 409 });
    // Its generations stopped: the engine is free again at once, not at the next lease renewal.
    let health: { queue: { running: number }; batches: { running_lines: number } } | undefined;
    for (let i = 0; i < 50; i++) {
      health = (await (await fetch(`${server.url}/health`)).json()) as typeof health;
      if (health?.queue.running === 0 && health.batches.running_lines === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(health).toMatchObject({ queue: { running: 0 }, batches: { running_lines: 0 } });
  });

  it('takes a sequence back from a batch for an interactive request; the preempted line runs again', async () => {
    const lines = Array.from({ length: 8 }, (_, i) => chatLine(`held-${i}`, { max_tokens: 1500 }));
    const created = await submit(server.openai, lines);
    await waitFor(server.openai, created.id, (batch) => batch.status === 'in_progress');
    const preemptions = async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return Number(
        /hrserve_batch_lines_total\{[^}]*outcome="preempted"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
      );
    };
    // Every sequence runs a line: an interactive request finds none free, and gets one back.
    for (let attempt = 0; attempt < 5 && (await preemptions()) === 0; attempt++) {
      for (let i = 0; i < 100; i++) {
        const health = (await (await fetch(`${server.url}/health`)).json()) as {
          queue: { running: number };
        };
        if (health.queue.running === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const chat = await server.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 4,
      });
      expect(chat.choices[0]?.message.content).toBeTypeOf('string');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await preemptions()).toBeGreaterThan(0);
    const batch = await waitFor(server.openai, created.id);
    expect(batch.request_counts).toEqual({ total: 8, completed: 8, failed: 0 });
    const output = await linesOf(server.openai, batch.output_file_id);
    expect(output.map((line) => line.custom_id).sort()).toEqual(
      lines.map((line) => line.custom_id).sort(),
    );
  });
});

describe('batches across kill -9 and instances', () => {
  const running: SpawnedService[] = [];
  let postgres: PostgresServer | undefined;
  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.stop()));
  });
  afterAll(() => postgres?.dispose());

  async function spawnLlmchat(env: Record<string, string>) {
    const service = await spawnService({
      cwd: LLMCHAT_ROOT,
      env: { LLMCHAT_MODEL: STORIES_MODEL, LLMCHAT_PARALLEL: '2', ...env },
    });
    running.push(service);
    await service.waitForLog((line) => line.msg === 'model loaded');
    await service.waitForLog((line) => String(line.msg).startsWith('store open'));
    return {
      service,
      openai: new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'x', maxRetries: 0 }),
    };
  }

  async function linesRun(service: SpawnedService): Promise<number> {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const match = /hrserve_batch_lines_total\{[^}]*outcome="succeeded"[^}]*\} (\d+)/.exec(metrics);
    return Number(match?.[1] ?? 0);
  }

  it('resumes after kill -9: every custom_id exactly once across the output and error files', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'llmchat-batch-kill-'));
    const first = await spawnLlmchat({ DATA_DIR: dataDir });
    const lines = [
      ...Array.from({ length: 40 }, (_, i) => chatLine(`k${i}`, { max_tokens: 48 })),
      chatLine('k-missing', { model: 'missing' }),
    ];
    const created = await submit(first.openai, lines);
    await waitFor(first.openai, created.id, (batch) => (batch.request_counts?.completed ?? 0) >= 4);
    first.service.child.kill('SIGKILL');
    await first.service.exited;

    const second = await spawnLlmchat({ DATA_DIR: dataDir });
    const batch = await waitFor(second.openai, created.id);
    expect(batch).toMatchObject({
      status: 'completed',
      request_counts: { total: 41, completed: 40, failed: 1 },
    });
    const output = await linesOf(second.openai, batch.output_file_id);
    const errors = await linesOf(second.openai, batch.error_file_id);
    const ids = [...output, ...errors].map((line) => line.custom_id);
    expect(ids.sort()).toEqual(lines.map((line) => line.custom_id).sort());
    expect(await linesRun(second.service)).toBeLessThan(40);
  });

  it('shares one batch between two instances on one PostgreSQL: no line runs twice', async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase();
    const filesDir = await mkdtemp(join(tmpdir(), 'llmchat-batch-files-'));
    const env = { DATABASE_URL: databaseUrl, FILES_DIR: filesDir };
    const [a, b] = await Promise.all([spawnLlmchat(env), spawnLlmchat(env)]);
    if (!a || !b) throw new Error('two instances expected');
    // Long enough that the second instance's poll (every second) finds lines left.
    const lines = Array.from({ length: 24 }, (_, i) => chatLine(`p${i}`, { max_tokens: 400 }));
    const created = await submit(a.openai, lines);
    const batch = await waitFor(b.openai, created.id);
    expect(batch.request_counts).toEqual({ total: 24, completed: 24, failed: 0 });
    const output = await linesOf(b.openai, batch.output_file_id);
    expect(output.map((line) => line.custom_id).sort()).toEqual(
      lines.map((line) => line.custom_id).sort(),
    );
    const [byA, byB] = await Promise.all([linesRun(a.service), linesRun(b.service)]);
    expect(byA + byB).toBe(24);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  });
});
