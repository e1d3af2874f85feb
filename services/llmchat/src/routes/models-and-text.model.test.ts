import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

describe('models, legacy completions and tokenization', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ LLMCHAT_MODEL_ALIAS: 'local-model,stories' });
  });
  afterAll(() => server.close());

  it('lists the model under each alias and retrieves each', async () => {
    const page = await server.openai.models.list();
    expect(page.data.map((model) => model.id)).toEqual(['local-model', 'stories']);
    for (const model of page.data) {
      expect(model.object).toBe('model');
      expect((model as unknown as { context_length: number }).context_length).toBe(2048);
    }
    expect((await server.openai.models.retrieve('stories')).id).toBe('stories');
    // Every alias names the same model; the file's own name is not an id once aliases are set.
    const completion = await server.openai.chat.completions.create({
      model: 'stories',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    expect(completion.model).toBe('stories');
    await expect(
      server.openai.chat.completions.create({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('completes raw text, streaming and not, with stop sequences', async () => {
    const completion = await server.openai.completions.create({
      model: 'local-model',
      prompt: 'Once upon a time, there was a little',
      max_tokens: 12,
      seed: 4,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.id).toMatch(/^cmpl-/);
    const text = completion.choices[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(12);

    const stream = await server.openai.completions.create({
      model: 'local-model',
      prompt: 'Once upon a time, there was a little',
      max_tokens: 12,
      seed: 4,
      stream: true,
    });
    let streamed = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(text);
    expect(['stop', 'length']).toContain(finish);
  });

  it('tokenizes and detokenizes round trip, llama.cpp style', async () => {
    const tokenized = (await (
      await fetch(`${server.url}/tokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'The cat sat.' }),
      })
    ).json()) as { tokens: number[] };
    expect(tokenized.tokens.length).toBeGreaterThan(2);
    expect(tokenized.tokens.every((token) => Number.isInteger(token))).toBe(true);
    const detokenized = (await (
      await fetch(`${server.url}/detokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tokens: tokenized.tokens }),
      })
    ).json()) as { content: string };
    expect(detokenized.content.trim()).toBe('The cat sat.');

    const outOfRange = await fetch(`${server.url}/detokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokens: [1, 10_000_000] }),
    });
    expect(outOfRange.status).toBe(400);
    expect(((await outOfRange.json()) as { error: { param: string } }).error.param).toBe('tokens');
  });

  it('reports the loaded models, context and memory in /health', async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as Record<
      string,
      unknown
    > & {
      models: Array<Record<string, unknown>>;
    };
    expect(health.status).toBe('ok');
    expect(health.service).toBe('llmchat');
    // The platform's contract: the default model's id as `model`.
    expect(health.model).toBe('local-model');
    expect(health.models).toHaveLength(1);
    const [model] = health.models;
    expect(model).toMatchObject({
      id: 'local-model',
      aliases: ['stories'],
      context_size: 2048,
      keep_alive_ms: -1,
    });
    expect(model?.size_bytes).toBe(1185376);
    expect(model?.estimated_ram_bytes).toBeGreaterThan(0);
    // Open without an API key: no filesystem paths.
    expect(JSON.stringify(health)).not.toContain('/shared/models');
    expect(health.rss_bytes).toBeGreaterThan(0);
  });
});
