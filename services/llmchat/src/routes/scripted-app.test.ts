import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';
import { type Script, scriptedLoader } from '../__fixtures__/scripted-engine.js';
import type { GenerationJob } from '../engine/types.js';

/*
 * The whole app — protocols, routes, the generator, the scheduler, error mapping —
 * over a scripted engine: no weights, exact answers. Model tests
 * (*.model.test.ts) check the same paths on real inference.
 */

const PIECES = ['Once', ' upon', ' a', ' time', '.'];

/** Scripts by the last user message: "slow" answers slowly, "fail" fails mid-answer. */
function script(job: GenerationJob): Script {
  const prompt = String.fromCodePoint(...job.promptTokens);
  if (prompt.includes('fail')) return { pieces: PIECES.slice(0, 2), failWith: new Error('boom') };
  if (prompt.includes('slow')) return { pieces: PIECES, pieceDelayMs: 40 };
  return { pieces: PIECES };
}

async function health(server: TestServer) {
  return (await (await fetch(`${server.url}/health`)).json()) as {
    queue: { running: number; waiting: number; rejected: number };
  };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('llmchat on a scripted engine', () => {
  let server: TestServer;
  const scripted = scriptedLoader(script, { parallel: 1, maxWaiting: 1 });
  const model = 'scripted';
  const user = (content: string) => [{ role: 'user' as const, content }];

  beforeAll(async () => {
    server = await startLlmchat(
      { LLMCHAT_MODEL: '/models/scripted.gguf', LLMCHAT_GENERATION_TIMEOUT_MS: '5000' },
      { loader: scripted.loader },
    );
  });
  afterAll(() => server.close());

  it('answers a chat completion with the generated text, usage and timing headers', async () => {
    const { data, response } = await server.openai.chat.completions
      .create({ model, messages: user('hi'), max_tokens: 50, stop: ['END'] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Once upon a time.');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.completion_tokens).toBe(5);
    expect(response.headers.get('x-queue-time-ms')).toMatch(/^\d+\.\d$/);
    const job = scripted.engines.get(model)?.jobs.at(-1);
    expect(job?.maxTokens).toBe(50);
    expect(job?.stop).toEqual(['END']);
  });

  it('streams the same answer; max_tokens cuts it with finish_reason length', async () => {
    const stream = await server.openai.chat.completions.create({
      model,
      messages: user('hi'),
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const reasons: unknown[] = [];
    const usages: unknown[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) reasons.push(chunk.choices[0].finish_reason);
      usages.push(chunk.usage);
    }
    expect(text).toBe('Once upon a');
    expect(reasons).toEqual(['length']);
    // As OpenAI sends it: "usage": null on every chunk but the last, which has it.
    expect(usages.slice(0, -1).every((usage) => usage === null)).toBe(true);
    expect(usages.at(-1)).toMatchObject({ completion_tokens: 3 });
  });

  it('a failure after the first chunk arrives as an SSE error event; the server goes on', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: user('fail'), stream: true }),
    });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('"content":"Once"');
    expect(body).toMatch(/event: error\ndata: \{"error":\{"message":"Generation failed\./);
    expect(body).not.toContain('[DONE]');
    const again = await server.openai.chat.completions.create({ model, messages: user('hi') });
    expect(again.choices[0]?.message.content).toBe('Once upon a time.');
  });

  it('a failure before any output is a plain 500 in the OpenAI shape', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: user('fail') }),
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: 'internal_error' } });
  });

  it('refuses the request beyond the queue with 429 and Retry-After, before any work', async () => {
    const post = () =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: user('slow') }),
      });
    // One sequence and one place in the queue: of three at once, one is refused.
    const responses = await Promise.all([post(), post(), post()]);
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 429]);
    const refused = responses.find((response) => response.status === 429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(await refused?.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect((await health(server)).queue).toMatchObject({ running: 0, waiting: 0 });
  });

  it('a client that hangs up mid-stream frees its sequence at once', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: user('slow'), stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    expect((await health(server)).queue.running).toBe(1);
    controller.abort();
    await until(async () => (await health(server)).queue.running === 0, 'the sequence back');
  });

  it('a request waiting in the queue whose client hangs up leaves the queue', async () => {
    const first = server.openai.chat.completions.create({ model, messages: user('slow') });
    await until(async () => (await health(server)).queue.running === 1, 'the first running');
    const controller = new AbortController();
    const waiting = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: user('hi') }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await until(async () => (await health(server)).queue.waiting === 1, 'one waiting');
    controller.abort();
    await until(async () => (await health(server)).queue.waiting === 0, 'the queue empty');
    expect(await waiting).toBeInstanceOf(Error);
    expect((await first).choices[0]?.message.content).toBe('Once upon a time.');
  });

  it('streams plain text to Accept: text/plain (curl -N): the request id, then the text', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/plain' },
      body: JSON.stringify({ model, messages: user('hi') }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const requestId = response.headers.get('x-request-id');
    expect(await response.text()).toBe(`[request_id=${requestId}]\nOnce upon a time.\n`);

    // Errors before the first byte stay JSON, with their status.
    const unknown = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/plain' },
      body: JSON.stringify({ model: 'nope', messages: user('hi') }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found' } });
  });

  it('a failure mid-answer ends a plain-text stream with an [error: …] line', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/plain' },
      body: JSON.stringify({ model, messages: user('fail') }),
    });
    const text = await response.text();
    expect(text).toMatch(/^\[request_id=[^\]]+\]\nOnce upon\n\[error: Generation failed\./);
  });

  it('/v1/completions takes a list of prompts (texts or token ids): one choice each, in order', async () => {
    const whole = await server.openai.completions.create({
      model,
      prompt: ['hi', 'there'],
      max_tokens: 2,
    });
    expect(whole.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, 'Once upon'],
      [1, 'Once upon'],
    ]);
    expect(whole.usage?.completion_tokens).toBe(4);
    const jobs = scripted.engines.get(model)?.jobs.slice(-2) ?? [];
    expect(jobs.map((job) => String.fromCodePoint(...job.promptTokens)).sort()).toEqual([
      'hi',
      'there',
    ]);

    const stream = await server.openai.completions.create({
      model,
      prompt: [
        [104, 105],
        [121, 111],
      ],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    const usages: unknown[] = [];
    for await (const chunk of stream) {
      for (const choice of chunk.choices) texts[choice.index] += choice.text;
      usages.push(chunk.usage);
    }
    expect(texts).toEqual(['Once upon a', 'Once upon a']);
    expect(usages.slice(0, -1).every((usage) => usage === null)).toBe(true);
    expect(usages.at(-1)).toMatchObject({ completion_tokens: 6 });
  });

  it('serves Ollama /api/chat over the same pipeline, streamed and not', async () => {
    const ollama = new Ollama({ host: server.url });
    const whole = await ollama.chat({ model, messages: user('hi'), stream: false });
    expect(whole.message.content).toBe('Once upon a time.');
    expect(whole.done_reason).toBe('stop');
    expect(whole.eval_count).toBe(5);
    let streamed = '';
    let last: { done: boolean; eval_count?: number } | undefined;
    for await (const part of await ollama.chat({
      model,
      messages: user('hi'),
      stream: true,
      options: { num_predict: 2 },
    })) {
      streamed += part.message.content;
      last = part;
    }
    expect(streamed).toBe('Once upon');
    expect(last).toMatchObject({ done: true, done_reason: 'length', eval_count: 2 });
  });
});

describe('llmchat on a scripted engine: a client that leaves while its model loads', () => {
  let server: TestServer;
  const scripted = scriptedLoader(() => ({ pieces: PIECES }), { loadMs: { slow: 300 } });

  beforeAll(async () => {
    server = await startLlmchat(
      { LLMCHAT_MODEL: '/models/scripted.gguf', LLMCHAT_MODELS: 'slow=/models/slow.gguf' },
      { loader: scripted.loader },
    );
  });
  afterAll(() => server.close());

  it('never gets a generation: the wait ends, the load completes for others', async () => {
    const controller = new AbortController();
    const request = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await request).toBeInstanceOf(Error);
    await until(async () => scripted.engines.has('slow'), 'the load to finish');
    // Loaded for the next request, but nothing ran for the one that left.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(scripted.engines.get('slow')?.jobs).toHaveLength(0);
    const next = await server.openai.chat.completions.create({
      model: 'slow',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(next.choices[0]?.message.content).toBe('Once upon a time.');
  });
});

describe('llmchat on a scripted engine: timeouts', () => {
  let server: TestServer;

  beforeAll(async () => {
    const { loader } = scriptedLoader(() => ({ pieces: PIECES, pieceDelayMs: 60 }));
    server = await startLlmchat(
      { LLMCHAT_MODEL: '/models/scripted.gguf', LLMCHAT_GENERATION_TIMEOUT_MS: '100' },
      { loader },
    );
  });
  afterAll(() => server.close());

  it('a generation past LLMCHAT_GENERATION_TIMEOUT_MS is stopped: 504 generation_timeout', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'scripted', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'generation_timeout' } });
  });
});
