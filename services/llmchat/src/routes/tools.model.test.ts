import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

const model = 'stories260K';

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
        unit: { type: 'string', enum: ['C', 'F'] },
      },
      required: ['city', 'days', 'unit'],
    },
  },
};
const timeTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: {
      type: 'object',
      properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } },
      required: ['zone'],
    },
  },
};
/** The weather tool's schema, as the client would check the arguments it receives. */
const weatherArguments = z.object({
  city: z.enum(['Paris', 'Oslo', 'Lima']),
  days: z.int().min(1).max(7),
  unit: z.enum(['C', 'F']),
});
const timeArguments = z.object({ zone: z.enum(['UTC', 'CET']) });

describe('tool calling and structured output, enforced by grammar', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat();
  });
  afterAll(() => server.close());

  it.each([1, 2, 3, 4, 5])(
    'tool_choice "required" returns a call whose arguments validate (seed %i)',
    async (seed) => {
      const completion = await server.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [weatherTool, timeTool],
        tool_choice: 'required',
        max_tokens: 200,
        seed,
      });
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      const call = choice?.message.tool_calls?.[0];
      expect(call?.type).toBe('function');
      expect(call?.id).toMatch(/^call_/);
      if (call?.type !== 'function') throw new Error('expected a function call');
      const schema = call.function.name === 'get_weather' ? weatherArguments : timeArguments;
      expect(['get_weather', 'get_time']).toContain(call.function.name);
      expect(() => schema.parse(JSON.parse(call.function.arguments))).not.toThrow();
    },
  );

  it('a named tool_choice calls exactly that function', async () => {
    const completion = await server.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Time please' }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      max_tokens: 100,
      seed: 11,
    });
    const calls = completion.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(1);
    const call = calls[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_time');
    expect(timeArguments.parse(JSON.parse(call.function.arguments))).toBeDefined();
  });

  it('streams tool-call deltas that reassemble into a valid call', async () => {
    const stream = await server.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather in Oslo for 3 days' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 200,
      stream: true,
      seed: 5,
    });
    const deltas: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finishReason: string | null | undefined;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    expect(finishReason).toBe('tool_calls');
    const [first, ...rest] = deltas;
    expect(first).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(first?.id).toMatch(/^call_/);
    expect(rest.length).toBeGreaterThan(1); // the arguments arrive in fragments
    for (const delta of rest) {
      expect(delta.index).toBe(0);
      expect(delta.id).toBeUndefined();
    }
    const argumentsText = deltas.map((delta) => delta.function?.arguments ?? '').join('');
    expect(weatherArguments.parse(JSON.parse(argumentsText))).toBeDefined();
  });

  it('takes tool results back and continues the conversation', async () => {
    const tools = [weatherTool];
    const first = await server.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather in Lima?' }],
      tools,
      tool_choice: 'required',
      max_tokens: 100,
      seed: 2,
    });
    const assistant = first.choices[0]?.message;
    const call = assistant?.tool_calls?.[0];
    if (!assistant || call?.type !== 'function') throw new Error('expected a tool call');
    const second = await server.openai.chat.completions.create({
      model,
      messages: [
        { role: 'user', content: 'Weather in Lima?' },
        { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls ?? [] },
        {
          role: 'tool',
          tool_call_id: call.id,
          content: JSON.stringify({ temperature: 21, sky: 'clear' }),
        },
      ],
      tools,
      tool_choice: 'none',
      max_tokens: 20,
      seed: 2,
    });
    const answer = second.choices[0];
    expect(answer?.message.tool_calls ?? []).toHaveLength(0);
    expect(answer?.message.content?.length).toBeGreaterThan(0);
  });

  it('json_schema output parses and validates', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 20 },
        age: { type: 'integer', minimum: 0, maximum: 120 },
        pets: { type: 'array', items: { type: 'string', enum: ['cat', 'dog'] }, maxItems: 3 },
      },
      required: ['name', 'age', 'pets'],
    };
    for (const seed of [1, 2, 3]) {
      const completion = await server.openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Describe a person' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'person', schema, strict: true },
        },
        max_tokens: 200,
        seed,
      });
      const parsed = JSON.parse(completion.choices[0]?.message.content ?? '');
      const person = z
        .object({
          name: z.string().max(20),
          age: z.int().min(0).max(120),
          pets: z.array(z.enum(['cat', 'dog'])).max(3),
        })
        .parse(parsed);
      expect(person).toBeDefined();
      expect(completion.choices[0]?.finish_reason).toBe('stop');
    }
  });

  it('json_object output is a JSON object', async () => {
    const completion = await server.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Give JSON' }],
      response_format: { type: 'json_object' },
      max_tokens: 300,
      seed: 8,
    });
    const content = completion.choices[0]?.message.content ?? '';
    if (completion.choices[0]?.finish_reason === 'stop')
      expect(() => JSON.parse(content)).not.toThrow();
    expect(content.trimStart().startsWith('{')).toBe(true);
  });
});
