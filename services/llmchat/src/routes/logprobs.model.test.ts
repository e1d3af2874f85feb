import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

/* logprobs on /v1/chat/completions through the official openai client, on stories260K. */

const model = 'stories260K';
const ask = {
  model,
  messages: [{ role: 'user' as const, content: 'Once upon a time' }],
  max_tokens: 12,
  temperature: 0,
  logprobs: true,
  top_logprobs: 3,
};

describe('logprobs on chat completions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat();
  });
  afterAll(() => server?.close());

  it("gives each token's log-probability under the model's own distribution", async () => {
    const completion = await server.openai.chat.completions.create(ask);
    const [choice] = completion.choices;
    const entries = choice?.logprobs?.content ?? [];
    expect(entries).toHaveLength(completion.usage?.completion_tokens ?? -1);
    // The tokens spell the answer.
    expect(entries.map((entry) => entry.token).join('')).toBe(choice?.message.content);
    for (const entry of entries) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.bytes).toEqual([...Buffer.from(entry.token, 'utf8')]);
      expect(entry.top_logprobs).toHaveLength(3);
      // Greedy: the chosen token is the likeliest, and the top ones are sorted.
      expect(entry.top_logprobs[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });
      const values = entry.top_logprobs.map((top) => top.logprob);
      expect(values).toEqual([...values].sort((a, b) => b - a));
      // Probabilities of different tokens: they add up to at most 1.
      expect(values.reduce((sum, value) => sum + Math.exp(value), 0)).toBeLessThanOrEqual(1 + 1e-9);
    }
  });

  it('streams the same log-probabilities in its chunks', async () => {
    const plain = await server.openai.chat.completions.create(ask);
    const stream = await server.openai.chat.completions.create({ ...ask, stream: true });
    const streamed: OpenAI.ChatCompletionTokenLogprob[] = [];
    let text = '';
    for await (const chunk of stream) {
      streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(plain.choices[0]?.message.content);
    const expected = plain.choices[0]?.logprobs?.content ?? [];
    expect(streamed.map((entry) => entry.token)).toEqual(expected.map((entry) => entry.token));
    streamed.forEach((entry, index) => {
      expect(entry.logprob).toBeCloseTo(expected[index]?.logprob ?? 0, 5);
    });
  });

  it('has no logprobs unless asked, and refuses top_logprobs out of range or alone', async () => {
    const { logprobs: _logprobs, top_logprobs: _top, ...without } = ask;
    const plain = await server.openai.chat.completions.create(without);
    expect(plain.choices[0]?.logprobs).toBeNull();
    await expect(
      server.openai.chat.completions.create({ ...ask, top_logprobs: 21 }),
    ).rejects.toMatchObject({ status: 400, param: 'top_logprobs' });
    await expect(
      server.openai.chat.completions.create({ ...without, top_logprobs: 2 }),
    ).rejects.toMatchObject({ status: 400, param: 'top_logprobs' });
  });
});
