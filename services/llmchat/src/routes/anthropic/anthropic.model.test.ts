import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../../__fixtures__/llmchat-server.js';

/* Anthropic's Messages API through the official @anthropic-ai/sdk, on stories260K. */

const model = 'stories260K';

/**
 * Greedy sampling. SDK 1.x no longer types `temperature` (Anthropic's newest models take
 * none), but older clients and raw HTTP callers send it, and llmchat honours it.
 */
const GREEDY: object = { temperature: 0 };

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city.',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};

describe('/v1/messages with the Anthropic SDK', () => {
  let server: TestServer;
  let anthropic: Anthropic;
  beforeAll(async () => {
    server = await startLlmchat();
    anthropic = new Anthropic({ baseURL: server.url, apiKey: 'not-needed', maxRetries: 0 });
  });
  afterAll(() => server?.close());

  it('answers a message, counting input tokens as Anthropic does', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Once upon a time' }];
    const message = await anthropic.messages.create({
      model,
      max_tokens: 8,
      system: 'Tell a story.',
      messages,
      ...GREEDY,
    });
    expect(message).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model,
      stop_reason: 'max_tokens',
      usage: { output_tokens: 8 },
    });
    expect(message.content[0]?.type).toBe('text');
    const { usage } = message;
    // count_tokens reads the same prompt: evaluated plus cached input tokens.
    const counted = await anthropic.messages.countTokens({
      model,
      system: 'Tell a story.',
      messages,
    });
    expect(counted.input_tokens).toBe(usage.input_tokens + (usage.cache_read_input_tokens ?? 0));
    // The same prompt again is read from the cache.
    const again = await anthropic.messages.create({
      model,
      max_tokens: 8,
      system: 'Tell a story.',
      messages,
      ...GREEDY,
    });
    expect(again.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(again.content).toEqual(message.content);
  });

  it('streams with the SDK helpers, to the same message the events add up to', async () => {
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 24,
      messages: [{ role: 'user', content: 'Lily went to the park' }],
      ...GREEDY,
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.content).toEqual([{ type: 'text', text: deltas.join(''), citations: null }]);
    expect(final.stop_reason).toMatch(/^(max_tokens|end_turn)$/);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
  });

  it('runs a tool use round trip: the call follows the schema, its tool_result is answered', async () => {
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const called = await anthropic.messages.create({
      model,
      max_tokens: 256,
      ...GREEDY,
      messages: [question],
      tools: [weather],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    expect(called.stop_reason).toBe('tool_use');
    const use = called.content.find((block) => block.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use block');
    expect(use).toMatchObject({ id: expect.stringMatching(/^toolu_/), name: 'get_weather' });
    expect(typeof (use.input as { city?: unknown }).city).toBe('string');

    const answered = await anthropic.messages.create({
      model,
      max_tokens: 12,
      messages: [
        question,
        { role: 'assistant', content: called.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: use.id, content: '18°C and sunny' }],
        },
      ],
      tools: [weather],
    });
    expect(answered.stop_reason).not.toBe('tool_use');
    expect(answered.content[0]?.type).toBe('text');
  });

  it('streams a tool call as input_json_delta events adding up to its input', async () => {
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 256,
      ...GREEDY,
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
      tools: [weather],
      // One call: each block's deltas add up to its own input.
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    let json = '';
    stream.on('inputJson', (partial) => {
      json += partial;
    });
    const final = await stream.finalMessage();
    const uses = final.content.filter((block) => block.type === 'tool_use');
    expect(uses).toHaveLength(1);
    expect(uses[0]?.type === 'tool_use' && uses[0].input).toEqual(JSON.parse(json));
    expect(final.stop_reason).toBe('tool_use');
  });

  it('follows output_config.format as a JSON schema', async () => {
    const message = await anthropic.messages.create({
      model,
      max_tokens: 48,
      ...GREEDY,
      messages: [{ role: 'user', content: 'Is the sky blue?' }],
      output_config: {
        format: {
          type: 'json_schema',
          schema: {
            type: 'object',
            properties: { answer: { type: 'boolean' } },
            required: ['answer'],
            additionalProperties: false,
          },
        },
      },
    });
    const text = message.content[0]?.type === 'text' ? message.content[0].text : '';
    expect(typeof (JSON.parse(text) as { answer: unknown }).answer).toBe('boolean');
  });

  it('answers bad input in its error shape, naming the field', async () => {
    const noMax = await anthropic.messages
      .create({ model, messages: [{ role: 'user', content: 'Hi' }] } as never)
      .catch((error: unknown) => error);
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    expect((noMax as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
    });
    const unknown = await anthropic.messages
      .create({
        model: 'no-such-model',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
      error: { type: 'not_found_error' },
    });
    const image = await anthropic.messages
      .create({
        model,
        max_tokens: 8,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'url', url: 'http://127.0.0.1:1/x.png' } }],
          },
        ],
      })
      .catch((error: unknown) => error);
    expect(image).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((image as Error).message)).toMatch(/messages\.0\.content\.0.*image/);
  });

  it('lists the models for the SDK, with its fields', async () => {
    const ids: string[] = [];
    for await (const info of anthropic.models.list()) {
      expect(info).toMatchObject({ type: 'model', display_name: info.id });
      expect(Number.isNaN(Date.parse(info.created_at))).toBe(false);
      ids.push(info.id);
    }
    expect(ids).toContain(model);
  });
});

describe('/v1/messages with API keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ API_KEYS: 'anthropic-test-key' });
  });
  afterAll(() => server?.close());

  it("takes the key as Anthropic's clients send it (x-api-key), and refuses others", async () => {
    const request = { model, max_tokens: 4, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const right = new Anthropic({
      baseURL: server.url,
      apiKey: 'anthropic-test-key',
      maxRetries: 0,
    });
    expect((await right.messages.create(request)).type).toBe('message');
    const wrong = new Anthropic({ baseURL: server.url, apiKey: 'wrong', maxRetries: 0 });
    const refused = await wrong.messages.create(request).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((refused as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
  });
});
