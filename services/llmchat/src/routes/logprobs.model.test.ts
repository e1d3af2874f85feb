import { Ollama } from 'ollama';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

/* logprobs through the official clients (openai: chat and legacy completions; ollama: chat and generate), on stories260K. */

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

describe('logprobs on legacy completions and Ollama', () => {
  let server: TestServer;
  let ollama: Ollama;
  const prompt = 'Once upon a time';
  beforeAll(async () => {
    server = await startLlmchat();
    ollama = new Ollama({ host: server.url });
  });
  afterAll(() => server?.close());

  it('legacy completions: logprobs N gives tokens, token_logprobs, top_logprobs and text_offset', async () => {
    const completion = await server.openai.completions.create({
      model,
      prompt,
      max_tokens: 10,
      temperature: 0,
      logprobs: 2,
    });
    const [choice] = completion.choices;
    const logprobs = choice?.logprobs;
    expect(logprobs?.tokens?.join('')).toBe(choice?.text);
    expect(logprobs?.tokens).toHaveLength(completion.usage?.completion_tokens ?? -1);
    let offset = 0;
    logprobs?.tokens?.forEach((token, index) => {
      expect(logprobs.text_offset?.[index]).toBe(offset);
      offset += token.length;
      const top = logprobs.top_logprobs?.[index] ?? {};
      expect(Object.keys(top).length).toBeGreaterThanOrEqual(1);
      // Greedy: the chosen token is the likeliest listed.
      expect(Math.max(...Object.values(top))).toBeCloseTo(logprobs.token_logprobs?.[index] ?? 1, 6);
    });
    // The chat route's values for the same text continuation are the same model's: the streamed form agrees.
    const stream = await server.openai.completions.create({
      model,
      prompt,
      max_tokens: 10,
      temperature: 0,
      logprobs: 0,
      stream: true,
    });
    const streamed: { tokens: string[]; offsets: number[]; values: number[] } = {
      tokens: [],
      offsets: [],
      values: [],
    };
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.logprobs;
      expect(piece?.top_logprobs ?? null).toBeNull();
      streamed.tokens.push(...(piece?.tokens ?? []));
      streamed.offsets.push(...(piece?.text_offset ?? []));
      streamed.values.push(...(piece?.token_logprobs ?? []));
    }
    expect(streamed.tokens).toEqual(logprobs?.tokens);
    expect(streamed.offsets).toEqual(logprobs?.text_offset);
    streamed.values.forEach((value, index) => {
      expect(value).toBeCloseTo(logprobs?.token_logprobs?.[index] ?? 1, 5);
    });
    await expect(
      server.openai.completions.create({ model, prompt, max_tokens: 2, logprobs: 21 }),
    ).rejects.toMatchObject({ status: 400, param: 'logprobs' });
  });

  it("agrees with llama-server's n_probs on the same greedy run", async () => {
    // Recorded from llama.cpp's llama-server (POST /completion, n_probs 3, temperature 0) on
    // stories260K; the two differ only by float rounding between batch shapes.
    const llamaServer: Array<[string, number, Array<[string, number]>]> = [
      [
        ',',
        -0.03178,
        [
          [',', -0.03178],
          [' there', -3.5473],
          [' in', -8.11946],
        ],
      ],
      [
        ' there',
        -0.06839,
        [
          [' there', -0.06839],
          [' in', -2.97973],
          [' a', -4.53498],
        ],
      ],
      [
        ' was',
        -0.01598,
        [
          [' was', -0.01598],
          [' we', -4.84424],
          [' li', -5.11729],
        ],
      ],
      [
        ' a',
        -0.00078,
        [
          [' a', -0.00078],
          [' very', -9.20093],
          [' s', -9.48379],
        ],
      ],
      [
        ' little',
        -0.49397,
        [
          [' little', -0.49397],
          [' big', -2.60725],
          [' b', -2.71782],
        ],
      ],
      [
        ' g',
        -0.44626,
        [
          [' g', -0.44626],
          [' b', -1.28892],
          [' do', -3.84045],
        ],
      ],
    ];
    const completion = await server.openai.completions.create({
      model,
      prompt,
      max_tokens: 6,
      temperature: 0,
      logprobs: 3,
    });
    const logprobs = completion.choices[0]?.logprobs;
    llamaServer.forEach(([token, logprob, top], index) => {
      expect(logprobs?.tokens?.[index]).toBe(token);
      expect(Math.abs((logprobs?.token_logprobs?.[index] ?? 0) - logprob)).toBeLessThan(5e-3);
      const ours = Object.entries(logprobs?.top_logprobs?.[index] ?? {});
      expect(ours.map(([text]) => text)).toEqual(top.map(([text]) => text));
      ours.forEach(([, value], rank) => {
        expect(Math.abs(value - (top[rank]?.[1] ?? 0))).toBeLessThan(5e-3);
      });
    });
  });

  it('Responses: include message.output_text.logprobs, in the output text and its deltas', async () => {
    const ask = {
      model,
      input: prompt,
      max_output_tokens: 8,
      temperature: 0,
      store: false,
      include: ['message.output_text.logprobs' as const],
      top_logprobs: 2,
    };
    const response = await server.openai.responses.create(ask);
    const message = response.output.find((item) => item.type === 'message');
    const part = message?.type === 'message' ? message.content[0] : undefined;
    const entries = part?.type === 'output_text' ? (part.logprobs ?? []) : [];
    expect(entries.map((entry) => entry.token).join('')).toBe(response.output_text);
    expect(entries).toHaveLength(response.usage?.output_tokens ?? -1);
    for (const entry of entries) {
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });
    }
    const deltas: string[] = [];
    let done: string[] = [];
    for await (const event of await server.openai.responses.create({ ...ask, stream: true })) {
      if (event.type === 'response.output_text.delta') {
        deltas.push(...event.logprobs.map((entry) => entry.token));
      }
      if (event.type === 'response.output_text.done') {
        done = event.logprobs.map((entry) => entry.token);
      }
    }
    expect(deltas).toEqual(entries.map((entry) => entry.token));
    expect(done).toEqual(deltas);
    const plain = await server.openai.responses.create({ model, input: prompt, store: false });
    const plainPart = plain.output.find((item) => item.type === 'message');
    expect(plainPart?.type === 'message' && plainPart.content[0]).toMatchObject({ logprobs: [] });
  });

  it('Ollama chat and generate: logprobs and top_logprobs as Ollama returns them', async () => {
    const options = { temperature: 0, num_predict: 8 };
    const chat = await ollama.chat({
      model,
      messages: [{ role: 'user', content: prompt }],
      options,
      logprobs: true,
      top_logprobs: 2,
    });
    const entries = chat.logprobs ?? [];
    expect(entries.map((entry) => entry.token).join('')).toBe(chat.message.content);
    expect(entries).toHaveLength(chat.eval_count);
    for (const entry of entries) {
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs?.[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });
    }
    const streamed: string[] = [];
    for await (const part of await ollama.generate({
      model,
      prompt,
      options,
      logprobs: true,
      stream: true,
    })) {
      streamed.push(...(part.logprobs ?? []).map((entry) => entry.token));
    }
    const generated = await ollama.generate({ model, prompt, options, logprobs: true });
    expect(streamed).toEqual(generated.logprobs?.map((entry) => entry.token));
    expect(streamed.join('')).toBe(generated.response);
    await expect(
      ollama.chat({ model, messages: [{ role: 'user', content: prompt }], top_logprobs: 2 }),
    ).rejects.toMatchObject({ status_code: 400 });
  });
});
