import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support/spawn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmClient } from './llm-client.js';

const LLMCHAT_ROOT = fileURLToPath(new URL('../../../services/llmchat/', import.meta.url));
const MODELS_DIR = fileURLToPath(new URL('../../../../shared/models/', import.meta.url));
const model = 'stories260K';
const story = [{ role: 'user' as const, content: 'Once upon a time' }];

describe('LlmClient against a real llmchat', () => {
  let llmchat: SpawnedService;
  beforeAll(async () => {
    llmchat = await spawnService({
      cwd: LLMCHAT_ROOT,
      env: { LLMCHAT_MODEL: `${MODELS_DIR}stories260K.gguf`, LLMCHAT_MODELS_DIR: MODELS_DIR },
    });
    await llmchat.waitForLog((line) => line.msg === 'model loaded');
  });
  afterAll(() => llmchat.stop());

  it('detects the Ollama chat API first, and chats, streams and generates on it', async () => {
    const client = new LlmClient({ baseUrl: llmchat.url, model });
    expect(await client.apiType()).toBe('ollama-chat');
    const whole = await client.chat(story, { temperature: 0, maxTokens: 12 });
    expect(whole.text.length).toBeGreaterThan(0);
    expect(whole.completionTokens).toBeLessThanOrEqual(12);
    let streamed = '';
    for await (const delta of client.stream(story, { temperature: 0, maxTokens: 12 }))
      streamed += delta;
    expect(streamed).toBe(whole.text);
    expect((await client.generate('The cat', { maxTokens: 4 })).text.length).toBeGreaterThan(0);
  });

  it('speaks OpenAI and Ollama generate when told to, with the same answer', async () => {
    const answers = await Promise.all(
      (['openai', 'ollama-generate', 'ollama-chat'] as const).map((api) =>
        new LlmClient({ baseUrl: llmchat.url, model, api }).chat(story, {
          temperature: 0,
          maxTokens: 10,
        }),
      ),
    );
    expect(answers[0]?.text).toBe(answers[2]?.text);
    expect(answers[1]?.text.length).toBeGreaterThan(0);
    let streamed = '';
    for await (const delta of new LlmClient({ baseUrl: llmchat.url, model, api: 'openai' }).stream(
      story,
      {
        temperature: 0,
        maxTokens: 10,
      },
    ))
      streamed += delta;
    expect(streamed).toBe(answers[0]?.text);
  });

  it('stops a stream on abort, and the server frees the sequence', async () => {
    const client = new LlmClient({ baseUrl: llmchat.url, model });
    const controller = new AbortController();
    let pieces = 0;
    const reading = (async () => {
      for await (const _delta of client.stream(story, {
        maxTokens: 2000,
        signal: controller.signal,
      })) {
        pieces += 1;
        if (pieces === 3) controller.abort();
      }
    })();
    await expect(reading).rejects.toBeDefined();
    expect(pieces).toBe(3);
    for (let tries = 0; tries < 50; tries++) {
      const health = (await (await fetch(`${llmchat.url}/health`)).json()) as {
        queue: { running: number };
      };
      if (health.queue.running === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the sequence was not freed');
  });

  it('falls back to the next model when the first is missing', async () => {
    const client = new LlmClient({
      baseUrl: llmchat.url,
      model: 'no-such-model',
      fallbackModels: [model],
    });
    const answer = await client.chat(story, { maxTokens: 4 });
    expect(answer.model).toBe(model);
    expect(answer.text.length).toBeGreaterThan(0);
  });

  it("counts tokens with the server's tokenizer, and diagnoses the connection", async () => {
    const client = new LlmClient({ baseUrl: llmchat.url, model });
    const tokens = (await (
      await fetch(`${llmchat.url}/tokenize`, {
        method: 'POST',
        body: JSON.stringify({ content: 'Once upon a time' }),
        headers: { 'content-type': 'application/json' },
      })
    ).json()) as { tokens: number[] };
    expect(await client.countTokens('Once upon a time')).toEqual({
      tokens: tokens.tokens.length,
      estimated: false,
    });
    expect(await client.checkConnection()).toBe(true);
    const diagnosis = await client.diagnose();
    expect(diagnosis).toMatchObject({ reachable: true, api: 'ollama-chat', advice: [] });
    expect(diagnosis.models).toEqual(expect.arrayContaining([model, 'synth-30M-q8_0']));
    const wrong = await new LlmClient({ baseUrl: llmchat.url, model: 'gpt-9' }).diagnose();
    expect(wrong.advice.join(' ')).toMatch(/does not list gpt-9; it has: .*stories260K/);
  });
});
