import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

const model = 'stories260K';

interface Running {
  running: number;
  waiting: number;
  rejected: number;
}
async function queueState(server: TestServer): Promise<Running> {
  const health = (await (await fetch(`${server.url}/health`)).json()) as { queue: Running };
  return health.queue;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('concurrency with 4 sequences', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ LLMCHAT_PARALLEL: '4', LLMCHAT_QUEUE_SIZE: '32' });
  });
  afterAll(() => server.close());

  it('completes 16 concurrent streams, each well-formed and full length', async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, async (_, index) => {
        const stream = await server.openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: `Story number ${index}` }],
          max_tokens: 24,
          ignore_eos: true,
          stream: true,
          stream_options: { include_usage: true },
          seed: index,
        } as never);
        let text = '';
        let usage: number | undefined;
        let finish: string | null | undefined;
        for await (const chunk of stream as unknown as AsyncIterable<{
          choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
          usage?: { completion_tokens: number };
        }>) {
          text += chunk.choices[0]?.delta.content ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
          usage = chunk.usage?.completion_tokens ?? usage;
        }
        return { text, usage, finish };
      }),
    );
    for (const result of results) {
      expect(result.finish).toBe('length');
      expect(result.usage).toBe(24);
      expect(result.text.length).toBeGreaterThan(0);
    }
    await waitFor(async () => (await queueState(server)).running === 0);
  });

  it('reuses the KV state of a repeated prompt prefix', async () => {
    const system = `You are a storyteller. ${'Tell tales of cats, dogs and the sea. '.repeat(20)}`;
    const ask = (question: string) =>
      server.openai.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: question },
        ],
        max_tokens: 4,
      });
    const first = await ask('A story about a cat?');
    const second = await ask('A story about a dog?');
    const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    expect(first.usage?.prompt_tokens).toBeGreaterThan(150);
    // Everything up to the differing question is reused.
    expect(cached).toBeGreaterThan((second.usage?.prompt_tokens ?? 0) * 0.8);
  });

  it('answers the same, token for token, alone, batched with others, and from a reused prefix', async () => {
    const greedy = (content: string, extra: Record<string, unknown> = {}) =>
      server.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content }],
        max_tokens: 32,
        temperature: 0,
        ...extra,
      });
    const prompts = ['Once upon a time, a cat', 'The little dog ran', 'A bird sang', 'The sea'];
    const alone: string[] = [];
    for (const prompt of prompts)
      alone.push((await greedy(prompt)).choices[0]?.message.content ?? '');
    const batched = await Promise.all(prompts.map((prompt) => greedy(prompt)));
    expect(batched.map((answer) => answer.choices[0]?.message.content)).toEqual(alone);

    // Stopped early, the sequence keeps only what was answered; asking again reuses that prefix.
    const firstWord = alone[0]?.trim().split(/\s+/)[1] ?? 'the';
    await greedy(prompts[0] ?? '', { stop: [firstWord] });
    const again = await greedy(prompts[0] ?? '');
    expect(again.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(0);
    expect(again.choices[0]?.message.content).toBe(alone[0]);
  });
});

describe('a full queue and disconnects, with 1 sequence', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ LLMCHAT_PARALLEL: '1', LLMCHAT_QUEUE_SIZE: '1' });
  });
  afterAll(() => server.close());

  /** A generation long enough to hold the only sequence while the test acts. */
  const longRequest = (signal?: AbortSignal, stream = true) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'Go' }],
        max_tokens: 1500,
        ignore_eos: true,
        stream,
      }),
      ...(signal ? { signal } : {}),
    });

  it('refuses the request beyond the queue with 429 and Retry-After at once', async () => {
    const controller = new AbortController();
    const running = await longRequest(controller.signal);
    expect(running.status).toBe(200);
    const waiting = longRequest(controller.signal);
    await waitFor(async () => (await queueState(server)).waiting === 1);

    const startedAt = performance.now();
    const refused = await server.openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
      .catch((error: { status?: number; headers?: Headers; code?: string }) => error);
    expect(performance.now() - startedAt).toBeLessThan(500);
    expect((refused as { status?: number }).status).toBe(429);
    expect((refused as { code?: string }).code).toBe('rate_limit_exceeded');
    expect((refused as { headers?: Headers }).headers?.get('retry-after')).toBe('1');

    controller.abort();
    await waiting.catch(() => undefined);
    await waitFor(async () => {
      const state = await queueState(server);
      return state.running === 0 && state.waiting === 0;
    });
  });

  it('frees the sequence when a client disconnects mid-stream', async () => {
    const controller = new AbortController();
    const response = await longRequest(controller.signal);
    const reader = response.body?.getReader();
    await reader?.read();
    await reader?.read();
    expect((await queueState(server)).running).toBe(1);
    controller.abort();
    const abortedAt = performance.now();
    await waitFor(async () => (await queueState(server)).running === 0, 1000);
    expect(performance.now() - abortedAt).toBeLessThan(1000);

    // The next request gets the sequence and completes.
    const next = await server.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
    });
    expect(next.choices[0]?.finish_reason).toBeDefined();
  });

  it('frees the sequence when a non-streaming client disconnects', async () => {
    const controller = new AbortController();
    const pending = longRequest(controller.signal, false).catch(() => undefined);
    await waitFor(async () => (await queueState(server)).running === 1);
    controller.abort();
    await pending;
    await waitFor(async () => (await queueState(server)).running === 0, 1000);
  });
});

describe('an error after the stream started', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ LLMCHAT_GENERATION_TIMEOUT_MS: '300' });
  });
  afterAll(() => server.close());

  it('arrives as an SSE error event and ends the stream', async () => {
    const stream = await server.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Go' }],
      max_tokens: 1900,
      ignore_eos: true,
      stream: true,
    } as never);
    let chunks = 0;
    const error = await (async () => {
      for await (const _chunk of stream as unknown as AsyncIterable<unknown>) chunks += 1;
    })().catch((caught: unknown) => caught);
    expect(chunks).toBeGreaterThan(0);
    expect(String((error as Error)?.message)).toContain('Generation exceeded 300 ms');
    // Before the first byte the same failure is a plain HTTP error.
    const plain = await server.openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'Go' }],
        max_tokens: 1900,
        ignore_eos: true,
      } as never)
      .catch((caught: { status?: number }) => caught);
    expect((plain as { status?: number }).status).toBe(504);
  });
});
