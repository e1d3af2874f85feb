import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

/*
 * Several choices (`n`) through the official openai client, on stories260K with four
 * sequences: the prompt evaluated once and copied to every choice's sequence.
 */

const model = 'stories260K';
const messages = [{ role: 'user' as const, content: 'Once upon a time' }];

describe('n choices', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ LLMCHAT_PARALLEL: '4' });
  });
  afterAll(() => server?.close());

  it('chat: n: 3 gives three choices, indexed, with usage counting the prompt once', async () => {
    const single = await server.openai.chat.completions.create({
      model,
      messages,
      max_tokens: 16,
      temperature: 1.5,
      seed: 7,
    });
    const completion = await server.openai.chat.completions.create({
      model,
      messages,
      max_tokens: 16,
      temperature: 1.5,
      seed: 7,
      n: 3,
    });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    const texts = completion.choices.map((choice) => choice.message.content ?? '');
    // Sampled with seeds 7, 8, 9: not three copies, and the first is the n: 1 answer.
    expect(new Set(texts).size).toBeGreaterThan(1);
    expect(texts[0]).toBe(single.choices[0]?.message.content);
    expect(completion.usage?.prompt_tokens).toBe(single.usage?.prompt_tokens);
    expect(completion.usage?.completion_tokens).toBeGreaterThanOrEqual(3);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it("greedy: every choice is the n: 1 answer (each sibling generates from the copied prompt's KV state)", async () => {
    const ask = { model, messages, max_tokens: 24, temperature: 0 };
    const single = await server.openai.chat.completions.create(ask);
    // A different prompt first, so the copies are made from fresh state.
    await server.openai.chat.completions.create({
      ...ask,
      messages: [{ role: 'user', content: 'The end' }],
    });
    const three = await server.openai.chat.completions.create({ ...ask, n: 3 });
    const expected = single.choices[0]?.message.content;
    expect(expected?.length).toBeGreaterThan(0);
    expect(three.choices.map((choice) => choice.message.content)).toEqual([
      expected,
      expected,
      expected,
    ]);
  });

  it('chat: n: 3 streams each choice with its index, the same answers as without a stream', async () => {
    const ask = { model, messages, max_tokens: 12, temperature: 1.5, seed: 11, n: 3 };
    const plain = await server.openai.chat.completions.create(ask);
    const stream = await server.openai.chat.completions.create({
      ...ask,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', '', ''];
    const finished: number[] = [];
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? '';
        if (choice.finish_reason) finished.push(choice.index);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(texts).toEqual(plain.choices.map((choice) => choice.message.content));
    expect(finished.sort()).toEqual([0, 1, 2]);
    expect(usage).toMatchObject({
      prompt_tokens: plain.usage?.prompt_tokens,
      completion_tokens: plain.usage?.completion_tokens,
    });
  });

  it('legacy completions: n per prompt, numbered prompt by prompt', async () => {
    const completion = await server.openai.completions.create({
      model,
      prompt: ['Once upon a time', 'The little dog'],
      max_tokens: 6,
      temperature: 0,
      n: 2,
    });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3]);
    // Greedy: a prompt's two choices agree.
    const texts = completion.choices.map((choice) => choice.text);
    expect(texts[0]).toBe(texts[1]);
    expect(texts[2]).toBe(texts[3]);
    expect(texts[0]).not.toBe(texts[2]);
  });

  it('n above the sequences is a 400 naming n and LLMCHAT_PARALLEL', async () => {
    await expect(
      server.openai.chat.completions.create({ model, messages, max_tokens: 2, n: 5 }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'n',
      message: expect.stringContaining('LLMCHAT_PARALLEL=4'),
    });
  });
});
