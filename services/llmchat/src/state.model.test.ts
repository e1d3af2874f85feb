import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support';
import { type PostgresServer, startPostgres } from '@hrserve/test-support/postgres';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORIES_MODEL } from './__fixtures__/llmchat-server.js';

/*
 * The state as an operator's llmchat keeps it: the built service as its unit runs it,
 * killed with SIGKILL and restarted, and two instances sharing one PostgreSQL.
 */

const LLMCHAT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const model = 'stories260K';

const running: SpawnedService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

async function spawnLlmchat(env: Record<string, string>) {
  const service = await spawnService({
    cwd: LLMCHAT_ROOT,
    env: { LLMCHAT_MODEL: STORIES_MODEL, ...env },
  });
  running.push(service);
  await service.waitForLog((line) => line.msg === 'model loaded');
  await service.waitForLog((line) => String(line.msg).startsWith('store open'));
  return {
    service,
    openai: new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'x', maxRetries: 0 }),
  };
}

describe('kill -9, then a restart on the same data directory', () => {
  it('loses no stored response or conversation, resumes a background response, fails a streamed one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'llmchat-state-'));
    const first = await spawnLlmchat({ DATA_DIR: dataDir });
    const done = await first.openai.responses.create({
      model,
      input: 'Once upon a time',
      max_output_tokens: 8,
    });
    const conversation = await first.openai.conversations.create({ metadata: { kept: 'yes' } });
    await first.openai.responses.create({
      model,
      conversation: conversation.id,
      input: 'Tom had a ball.',
      max_output_tokens: 4,
    });
    const runningResponse = await first.openai.responses.create({
      model,
      input: 'A long story',
      background: true,
      max_output_tokens: 100_000,
    });
    // A streamed background response runs in its process only: read until it is under way.
    const streamed = await first.openai.responses.create({
      model,
      input: 'Another long story',
      background: true,
      stream: true,
      max_output_tokens: 100_000,
    });
    let streamedId = '';
    for await (const event of streamed) {
      if (event.type === 'response.created') streamedId = event.response.id;
      if (event.type === 'response.output_text.delta') break;
    }
    for (let i = 0; i < 100; i++) {
      const polled = await first.openai.responses.retrieve(runningResponse.id);
      if (polled.status === 'in_progress') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.service.child.kill('SIGKILL');
    await first.service.exited;

    const second = await spawnLlmchat({ DATA_DIR: dataDir });
    expect(await second.openai.responses.retrieve(done.id)).toEqual(done);
    expect(await second.openai.conversations.retrieve(conversation.id)).toEqual(conversation);
    const items = await second.openai.conversations.items.list(conversation.id);
    expect(items.data).toHaveLength(2);
    // The streamed one could only be streamed by the process that died: failed.
    const orphan = await second.openai.responses.retrieve(streamedId);
    expect(orphan.status).toBe('failed');
    expect(orphan.error?.message).toMatch(/server stopped while this response was running/);
    // The other is durable: its job runs again, from the start, to its end.
    let resumed = await second.openai.responses.retrieve(runningResponse.id);
    for (let i = 0; i < 600 && ['queued', 'in_progress'].includes(resumed.status ?? ''); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      resumed = await second.openai.responses.retrieve(runningResponse.id);
    }
    expect(resumed.status).toBe('incomplete');
    expect(resumed.output_text.length).toBeGreaterThan(0);
    // The chain goes on where it stopped.
    const next = await second.openai.responses.create({
      model,
      previous_response_id: done.id,
      input: 'The end.',
      max_output_tokens: 4,
    });
    expect(next.usage?.input_tokens).toBeGreaterThan(done.usage?.input_tokens ?? 0);
  });
});

describe('llmchat on PostgreSQL', () => {
  let postgres: PostgresServer;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.dispose());

  it("two instances on one database see each other's responses and conversations", async () => {
    const databaseUrl = await postgres.createDatabase();
    // Started at once: both run the migrations' check, one runs them.
    const [a, b] = await Promise.all([
      spawnLlmchat({ DATABASE_URL: databaseUrl }),
      spawnLlmchat({ DATABASE_URL: databaseUrl }),
    ]);
    const conversation = await a.openai.conversations.create({ metadata: { by: 'a' } });
    await b.openai.responses.create({
      model,
      conversation: conversation.id,
      input: 'Hello from b',
      max_output_tokens: 4,
    });
    const items = await a.openai.conversations.items.list(conversation.id, { order: 'asc' });
    expect(items.data.map((item) => item.type)).toEqual(['message', 'message']);

    const turn = await a.openai.responses.create({ model, input: 'Tom', max_output_tokens: 4 });
    const continued = await b.openai.responses.create({
      model,
      previous_response_id: turn.id,
      input: 'Then?',
      max_output_tokens: 4,
    });
    expect(continued.previous_response_id).toBe(turn.id);
    expect(await a.openai.responses.retrieve(continued.id)).toEqual(continued);
  });

  it('answers 503 on stateful routes while the database is down, chat goes on, and recovers', async () => {
    const databaseUrl = await postgres.createDatabase();
    const { service, openai } = await spawnLlmchat({ DATABASE_URL: databaseUrl });
    const before = await openai.responses.create({ model, input: 'Hi', max_output_tokens: 2 });
    await postgres.stop();
    try {
      await expect(
        openai.responses.create({ model, input: 'Hi', max_output_tokens: 2 }),
      ).rejects.toMatchObject({
        status: 503,
        code: 'store_unavailable',
        message: expect.stringMatching(/unavailable right now \(unreachable\); retry later/),
      });
      await expect(openai.responses.retrieve(before.id)).rejects.toMatchObject({ status: 503 });
      // Stateless work does not need the store.
      const chat = await openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 2,
      });
      expect(chat.choices[0]?.message).toBeDefined();
      const unstored = await openai.responses.create({
        model,
        input: 'Hi',
        store: false,
        max_output_tokens: 2,
      });
      expect(unstored.status).toBe('incomplete');
    } finally {
      await postgres.start();
    }
    expect(await openai.responses.retrieve(before.id)).toEqual(before);
    const health = (await (await fetch(`${service.url}/health`)).json()) as { store: unknown };
    expect(health.store).toEqual({ backend: 'postgres', state: 'ok' });
  });
});
