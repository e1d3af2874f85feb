import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

const model = 'stories260K';
const messages = [{ role: 'user' as const, content: 'Once upon a time' }];

describe('POST /v1/chat/completions with the openai client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat();
  });
  afterAll(() => server.close());

  it('answers non-streaming with content, usage and timing headers', async () => {
    const { data: completion, response } = await server.openai.chat.completions
      .create({ model, messages, max_tokens: 24, seed: 7 })
      .withResponse();
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(model);
    const [choice] = completion.choices;
    expect(choice?.message.role).toBe('assistant');
    expect(choice?.message.content?.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(choice?.finish_reason);
    const usage = completion.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeLessThanOrEqual(24);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(Number(response.headers.get('x-time-to-first-token-ms'))).toBeGreaterThan(0);
    expect(response.headers.get('x-queue-time-ms')).not.toBeNull();
    expect(response.headers.get('x-request-id')).not.toBeNull();
  });

  it('streams role first, content deltas, the finish reason, then a usage chunk', async () => {
    const stream = await server.openai.chat.completions.create({
      model,
      messages,
      max_tokens: 16,
      stream: true,
      stream_options: { include_usage: true },
      seed: 3,
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const ids = new Set(chunks.map((chunk) => chunk.id));
    expect(ids.size).toBe(1);
    const finishChunk = chunks.at(-2);
    expect(finishChunk?.choices[0]?.finish_reason).toBe('length');
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage?.completion_tokens).toBe(16);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain('\uFFFD');

    // The same request without streaming gives the same text: streaming changes delivery only.
    const whole = await server.openai.chat.completions.create({
      model,
      messages,
      max_tokens: 16,
      seed: 3,
    });
    expect(whole.choices[0]?.message.content).toBe(text);
  });

  it('ends with finish_reason "length" exactly at max_tokens (and max_completion_tokens)', async () => {
    const first = await server.openai.chat.completions.create({
      model,
      messages,
      max_tokens: 5,
      ignore_eos: true,
    } as never);
    expect(first.choices[0]?.finish_reason).toBe('length');
    expect(first.usage?.completion_tokens).toBe(5);
    const second = await server.openai.chat.completions.create({
      model,
      messages,
      max_completion_tokens: 3,
      ignore_eos: true,
    } as never);
    expect(second.usage?.completion_tokens).toBe(3);
  });

  it('gives the same output for the same seed', async () => {
    const request = { model, messages, max_tokens: 32, temperature: 1, seed: 1234 };
    const [a, b] = await Promise.all([
      server.openai.chat.completions.create(request),
      server.openai.chat.completions.create(request),
    ]);
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    const outputs = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      const other = await server.openai.chat.completions.create({ ...request, seed });
      outputs.add(other.choices[0]?.message.content ?? '');
    }
    expect(outputs.size).toBeGreaterThan(1);
  });

  it('without a seed, the same request sent at once gets different answers (a fresh seed each)', async () => {
    // llama.cpp seeds an unseeded sampler from the clock in whole seconds: these four, sent
    // within one second, used to come back identical.
    const request = { model, messages, max_tokens: 32, temperature: 1, ignore_eos: true } as never;
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => server.openai.chat.completions.create(request)),
    );
    const texts = new Set(answers.map((answer) => answer.choices[0]?.message.content));
    expect(texts.size).toBeGreaterThan(1);
  });

  it('stops before a stop sequence and never includes it', async () => {
    const request = { model, messages, max_tokens: 60, seed: 99, ignore_eos: true } as never;
    const free = await server.openai.chat.completions.create(request);
    const text = free.choices[0]?.message.content ?? '';
    // A word from the middle of the free answer becomes the stop sequence.
    const word = text.split(/\s+/).filter((candidate) => candidate.length >= 3)[2] ?? '';
    expect(word.length).toBeGreaterThan(0);
    const stopped = await server.openai.chat.completions.create({
      ...(request as object),
      stop: [word, 'zzzz'],
    } as never);
    const content = stopped.choices[0]?.message.content ?? '';
    expect(stopped.choices[0]?.finish_reason).toBe('stop');
    expect(content).not.toContain(word);
    expect(text.startsWith(content)).toBe(true);
  });
});
