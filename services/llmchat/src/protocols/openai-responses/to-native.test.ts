import { ApiError, parseRequest } from 'hrserve';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { responseCreateRequestSchema } from './request.js';
import { responseToNative } from './to-native.js';

/*
 * Requests typed as the official client sends them (`satisfies` its
 * ResponseCreateParams), what the converter makes of them in a golden file,
 * and each refusal with the field it names.
 */

const AGENT_TURN = {
  model: 'stories260K',
  instructions: 'You are a terse assistant.',
  input: [
    { role: 'user', content: 'What is the weather in Paris?' },
    {
      type: 'message',
      role: 'assistant',
      id: 'msg_1',
      status: 'completed',
      content: [{ type: 'output_text', text: 'Let me check.', annotations: [] }],
    },
    {
      type: 'function_call',
      call_id: 'call_1',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    },
    { type: 'function_call_output', call_id: 'call_1', output: '{"celsius":21}' },
    { role: 'user', content: [{ type: 'input_text', text: 'And in Rome?' }] },
  ],
  tools: [
    {
      type: 'function',
      name: 'get_weather',
      description: 'Weather by city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      strict: true,
    },
  ],
  tool_choice: 'auto',
  parallel_tool_calls: false,
  max_output_tokens: 64,
  temperature: 0.2,
  top_p: 0.9,
  metadata: { job: 'weather' },
  store: true,
} satisfies OpenAI.Responses.ResponseCreateParamsNonStreaming;

const convert = (body: unknown, history: Parameters<typeof responseToNative>[1] = []) =>
  responseToNative(parseRequest(responseCreateRequestSchema, body), history);

/** The refusal a request gets: its status, code and the field it names. */
function refusal(body: unknown) {
  try {
    convert(body);
  } catch (error) {
    if (error instanceof ApiError) {
      return { status: error.status, code: error.code, param: error.param, message: error.message };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('Responses request → native request', () => {
  it('replays items as the chat the model reads (golden)', async () => {
    await expect(`${JSON.stringify(convert(AGENT_TURN), null, 2)}\n`).toMatchFileSnapshot(
      '../__fixtures__/openai-responses-request.native.golden.json',
    );
  });

  it('takes a string input as one user message, after the history a stored chain brings', () => {
    const native = convert({ model: 'm', input: 'And now?', instructions: 'Be brief.' }, [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
    ]);
    expect(native.prompt).toEqual({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'And now?' },
      ],
      tools: [],
    });
    expect(native.sampling).toEqual({ temperature: 1 });
  });

  it('turns text.format into the constraint the engine follows', () => {
    const native = convert({
      model: 'm',
      input: 'A person as JSON',
      text: { format: { type: 'json_schema', name: 'person', schema: { type: 'object' } } },
    } satisfies OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(native.constraint).toEqual({
      kind: 'json_schema',
      schema: { type: 'object' },
      origin: 'text.format.schema',
    });
    expect(
      convert({ model: 'm', input: 'x', text: { format: { type: 'json_object' } } }).constraint,
    ).toEqual({
      kind: 'json',
    });
  });

  it('forces the function tool_choice names', () => {
    const native = convert({
      ...AGENT_TURN,
      tool_choice: { type: 'function', name: 'get_weather' },
    });
    expect(native.tools).toMatchObject({ choice: 'required', parallel: false });
    expect(native.tools?.tools.map((tool) => tool.name)).toEqual(['get_weather']);
  });

  it('refuses what it cannot honour, naming the field and what to send instead', () => {
    expect(refusal({ model: 'm' })).toMatchObject({ status: 400, param: 'input' });
    expect(
      refusal({ model: 'm', input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }),
    ).toMatchObject({
      status: 400,
      param: 'input.0.type',
      message: expect.stringContaining("Input items of type 'reasoning' are not supported"),
    });
    expect(
      refusal({
        model: 'm',
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }],
      }),
    ).toMatchObject({ param: 'input.0.content.0.type' });
    expect(
      refusal({
        model: 'm',
        input: [{ type: 'function_call_output', call_id: 'call_9', output: 'x' }],
      }),
    ).toMatchObject({
      param: 'input.0.call_id',
      message: expect.stringContaining("No function_call with call_id 'call_9'"),
    });
    expect(refusal({ model: 'm', input: 'x', tools: [{ type: 'web_search' }] })).toMatchObject({
      param: 'tools.0.type',
    });
    expect(
      refusal({ ...AGENT_TURN, tools: [...AGENT_TURN.tools, ...AGENT_TURN.tools] }),
    ).toMatchObject({ param: 'tools.1.name' });
    expect(
      refusal({ ...AGENT_TURN, tool_choice: { type: 'function', name: 'nope' } }),
    ).toMatchObject({
      param: 'tool_choice.name',
    });
    expect(refusal({ model: 'm', input: 'x', tool_choice: 'required' })).toMatchObject({
      param: 'tool_choice',
    });
    expect(refusal({ ...AGENT_TURN, text: { format: { type: 'json_object' } } })).toMatchObject({
      param: 'text.format',
    });
    expect(refusal({ ...AGENT_TURN, max_tool_calls: 3 })).toMatchObject({
      param: 'max_tool_calls',
    });
  });

  it('asks for logprobs with the include value, top_logprobs alternatives implying it', () => {
    const native = (extra: Record<string, unknown>) =>
      responseToNative(
        parseRequest(responseCreateRequestSchema, { model: 'm', input: 'x', ...extra }),
      );
    expect(native({ include: ['message.output_text.logprobs'] }).logprobs).toEqual({ top: 0 });
    expect(native({ top_logprobs: 3 }).logprobs).toEqual({ top: 3 });
    expect(native({ include: ['reasoning.encrypted_content'] }).logprobs).toBeUndefined();
  });
});
