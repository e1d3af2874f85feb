import { afterEach, describe, expect, it } from 'vitest';
import { type FakeServer, fakeServer, openaiAnswer } from './__fixtures__/fake-server.js';
import { fitToBudget } from './context-window.js';
import { serviceUrl, urlVariable } from './discovery.js';
import { LlmError } from './errors.js';
import { LlmClient } from './llm-client.js';

const messages = [{ role: 'user' as const, content: 'hi' }];
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('faults', () => {
  it('server down: a clear error after the retries, not a hang', async () => {
    // A port that was just free: nothing listens there.
    const gone = await fakeServer(() => {});
    await gone.close();
    const client = new LlmClient({
      baseUrl: gone.url,
      model: 'm',
      api: 'openai',
      retries: 2,
      retryDelayMs: 10,
    });
    const started = performance.now();
    await expect(client.chat(messages)).rejects.toThrow(
      /Cannot connect to http:\/\/127\.0\.0\.1:\d+: is the service running\?/,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    const diagnosis = await client.diagnose();
    expect(diagnosis.reachable).toBe(false);
    expect(diagnosis.advice.join(' ')).toMatch(
      /Nothing answers at http:\/\/127\.0\.0\.1:\d+\. Start the service/,
    );
  });

  it('a slow server: the call times out when told to', async () => {
    server = await fakeServer(async (_request, response) => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      openaiAnswer(response, 'late');
    });
    const client = new LlmClient({
      baseUrl: server.url,
      model: 'm',
      api: 'openai',
      timeoutMs: 200,
    });
    const started = performance.now();
    await expect(client.chat(messages)).rejects.toThrow(/aborted or timed out/);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('429 with Retry-After, then success: retried once, after the wait', async () => {
    server = await fakeServer((request, response) => {
      if (request.index === 0) {
        response.writeHead(429, { 'retry-after': '0.2', 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'busy', code: 'rate_limit_exceeded' } }));
        return;
      }
      openaiAnswer(response, 'ok now');
    });
    const client = new LlmClient({
      baseUrl: server.url,
      model: 'm',
      api: 'openai',
      retryDelayMs: 5000,
    });
    const started = performance.now();
    const answer = await client.chat(messages);
    expect(answer.text).toBe('ok now');
    expect(server.requests).toHaveLength(2);
    // Retry-After (200 ms) was used, not the 5 s backoff.
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a 400 is not retried', async () => {
    server = await fakeServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ error: { message: "'temperature' is too high", param: 'temperature' } }),
      );
    });
    const client = new LlmClient({ baseUrl: server.url, model: 'm', api: 'openai' });
    const error = await client.chat(messages).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).status).toBe(400);
    expect((error as Error).message).toMatch(/temperature/);
    expect(server.requests).toHaveLength(1);
  });

  it('forwards client_job_id and traceparent, and keeps to the concurrency limit', async () => {
    let inFlight = 0;
    let most = 0;
    server = await fakeServer(async (_request, response) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight -= 1;
      openaiAnswer(response, 'x');
    });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const client = new LlmClient({
      baseUrl: server.url,
      model: 'm',
      api: 'openai',
      concurrency: 2,
      clientJobId: 'job-42',
      traceparent,
    });
    await Promise.all(Array.from({ length: 6 }, () => client.chat(messages)));
    expect(most).toBe(2);
    expect(server.requests[0]?.headers['x-client-job-id']).toBe('job-42');
    expect(server.requests[0]?.headers.traceparent).toBe(traceparent);
  });

  it('caches identical deterministic calls only', async () => {
    server = await fakeServer((request, response) =>
      openaiAnswer(response, `answer ${request.index}`),
    );
    const generated: string[] = [];
    const client = new LlmClient({
      baseUrl: server.url,
      model: 'm',
      api: 'openai',
      cacheSize: 8,
      hooks: { generated: (event) => generated.push(event.text) },
    });
    expect((await client.chat(messages, { temperature: 0 })).text).toBe('answer 0');
    expect((await client.chat(messages, { temperature: 0 })).text).toBe('answer 0');
    expect((await client.chat(messages, { temperature: 0.7 })).text).toBe('answer 1');
    expect((await client.chat(messages, { temperature: 0.7 })).text).toBe('answer 2');
    expect(server.requests).toHaveLength(3);
    expect(generated).toEqual(['answer 0', 'answer 1', 'answer 2']);
  });

  it('estimates tokens when the server has no tokenizer endpoint', async () => {
    server = await fakeServer((_request, response) => {
      response.writeHead(404);
      response.end();
    });
    const client = new LlmClient({ baseUrl: server.url, model: 'm', api: 'openai' });
    expect(await client.countTokens('abcdefgh')).toEqual({ tokens: 2, estimated: true });
  });
});

describe('discovery and the context window', () => {
  it('finds a service by name in the port table, overridable by environment', () => {
    expect(serviceUrl('llmchat', {})).toBe('http://127.0.0.1:2020');
    expect(serviceUrl('embed', { HRSERVE_HOST: 'gpu-box' })).toBe('http://gpu-box:2021');
    expect(serviceUrl('llmchat', { [urlVariable('llmchat')]: 'http://10.0.0.5:9000/' })).toBe(
      'http://10.0.0.5:9000',
    );
    expect(() => serviceUrl('nope', {})).toThrow(
      /Unknown service "nope"\. The port table has: console, embed, llmchat/,
    );
  });

  it('keeps the system prompt and the last turn, dropping the oldest turns first', async () => {
    const words = (text: string) => text.split(' ').length;
    const conversation = [
      { role: 'system' as const, content: 'be brief' },
      { role: 'user' as const, content: 'one two three four' },
      { role: 'assistant' as const, content: 'five six seven' },
      { role: 'user' as const, content: 'eight nine' },
    ];
    expect(await fitToBudget(conversation, 100, words)).toEqual(conversation);
    expect((await fitToBudget(conversation, 7, words)).map((message) => message.content)).toEqual([
      'be brief',
      'five six seven',
      'eight nine',
    ]);
    expect((await fitToBudget(conversation, 1, words)).map((message) => message.content)).toEqual([
      'be brief',
      'eight nine',
    ]);
  });
});
