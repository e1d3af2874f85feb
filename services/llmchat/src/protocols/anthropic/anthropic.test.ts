import { readFileSync } from 'node:fs';
import type Anthropic from '@anthropic-ai/sdk';
import { ApiError, errorCatalogue, parseRequest } from 'hrserve';
import { describe, expect, it } from 'vitest';
import { ContextLengthExceededError } from '../../engine/engine-errors.js';
import { llmchatErrors } from '../../errors.js';
import { TEXT_EVENTS, TEXT_RESULT, TOOL_EVENTS, TOOL_RESULT } from '../__fixtures__/generation.js';
import { anthropicStatus, toAnthropicError } from './errors.js';
import { messageCreateRequestSchema } from './request.js';
import { anthropicEncoder } from './response.js';
import { messagesToNative } from './to-native.js';

/*
 * The Messages API's converter and encoder on recorded requests and generations, byte for
 * byte in golden files, and typed as the official SDK types them: a body must be assignable
 * to its `Message`, every stream event to its `RawMessageStreamEvent`.
 */

const recorded = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url), 'utf8'));
const golden = (name: string) => `../__fixtures__/anthropic-${name}.golden.json`;
const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const identity = {
  id: 'msg_0123456789abcdef01234567',
  model: 'stories260K',
  stopSequences: ['\n\nHuman:'],
  // TEXT_RESULT spends all 9: cut by max_tokens, not by the context.
  maxTokens: 9,
  requestId: 'req-0123',
};

const parse = (body: unknown) => parseRequest(messageCreateRequestSchema, body);
const minimal = { model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] };

describe('Anthropic requests as native ones', () => {
  it('keeps the turns in order: tool results answer their calls, thinking is dropped (golden)', async () => {
    const native = messagesToNative(parse(recorded('anthropic-messages-request.json')));
    expect(native.prompt).toMatchObject({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'You answer briefly.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: 'Let me check.',
          toolCalls: [{ id: 'toolu_01A', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        },
        { role: 'tool', content: '18°C, sunny' },
        { role: 'user', content: 'And tomorrow?' },
      ],
    });
    expect(native).toMatchObject({
      maxTokens: 64,
      stop: ['\n\nHuman:'],
      sampling: { temperature: 0.5, topK: 40 },
      tools: { choice: 'auto', parallel: false },
    });
    await expect(pretty(native)).toMatchFileSnapshot(golden('messages-request.native'));
  });

  it('maps tool_choice any and tool to a required call, none to no tools', () => {
    const tools = [
      { name: 'a', input_schema: { type: 'object' } },
      { name: 'b', input_schema: { type: 'object' } },
    ];
    const any = messagesToNative(parse({ ...minimal, tools, tool_choice: { type: 'any' } }));
    expect(any.tools).toMatchObject({ choice: 'required', parallel: true });
    expect(any.tools?.tools.map((tool) => tool.name)).toEqual(['a', 'b']);
    const named = messagesToNative(
      parse({ ...minimal, tools, tool_choice: { type: 'tool', name: 'b' } }),
    );
    expect(named.tools).toMatchObject({
      choice: 'required',
      parallel: false,
      tools: [{ name: 'b' }],
    });
    const none = messagesToNative(parse({ ...minimal, tools, tool_choice: { type: 'none' } }));
    expect(none.tools).toBeUndefined();
    expect(none.prompt).toMatchObject({ tools: [] });
  });

  it("drops Claude Code's billing line (it changes every request), keeps the rest of the system prompt", () => {
    const native = messagesToNative(
      parse({
        ...minimal,
        system: [
          { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.3; cch=a5145;' },
          { type: 'text', text: 'You are Claude Code.' },
        ],
      }),
    );
    expect(native.prompt).toMatchObject({
      messages: [
        { role: 'system', content: 'You are Claude Code.' },
        { role: 'user', content: 'Hi' },
      ],
    });
  });

  it('orders tool results as their calls, and reads an image result as a note', () => {
    const native = messagesToNative(
      parse({
        ...minimal,
        messages: [
          { role: 'user', content: 'Look' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_a', name: 'read', input: { path: 'a.txt' } },
              { type: 'tool_use', id: 'toolu_b', name: 'read', input: { path: 'b.png' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_b',
                content: [
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: '' } },
                ],
              },
              {
                type: 'tool_result',
                tool_use_id: 'toolu_a',
                content: 'text of a',
                is_error: false,
              },
            ],
          },
        ],
      }),
    );
    expect(native.prompt).toMatchObject({
      messages: [
        { role: 'user', content: 'Look' },
        { role: 'assistant', content: '' },
        { role: 'tool', content: 'text of a' },
        { role: 'tool', content: '[image omitted: this model reads text only]' },
      ],
    });
  });

  it('follows output_config.format as a JSON schema', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const native = messagesToNative(
      parse({ ...minimal, output_config: { format: { type: 'json_schema', schema } } }),
    );
    expect(native.constraint).toEqual({
      kind: 'json_schema',
      schema,
      origin: 'output_config.format.schema',
    });
  });

  it.each([
    [{ ...minimal, max_tokens: undefined }, 'max_tokens'],
    [
      { ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] },
      'messages.0.content.0',
    ],
    [{ ...minimal, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools.0'],
    [
      {
        ...minimal,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x' }] }],
      },
      'messages.0.content.0.tool_use_id',
    ],
    [{ ...minimal, tool_choice: { type: 'any' } }, 'tool_choice'],
    [{ ...minimal, temperature: 1.5 }, 'temperature'],
  ])('refuses bad input by field: %#', (body, param) => {
    const error = (() => {
      try {
        messagesToNative(parse(body));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).param).toBe(param);
    expect((error as ApiError).status).toBe(400);
  });
});

describe('Anthropic answers', () => {
  it('text cut at max_tokens (golden, SDK-typed)', async () => {
    const body: Anthropic.Message = anthropicEncoder(identity).body([TEXT_RESULT]);
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      stop_reason: 'max_tokens',
      content: [{ type: 'text', text: TEXT_RESULT.text }],
      // 42 prompt tokens, 12 of them from the cache.
      usage: { input_tokens: 30, cache_read_input_tokens: 12, output_tokens: 9 },
    });
    await expect(pretty(body)).toMatchFileSnapshot(golden('text-body'));
  });

  it('text then a tool call: stop_reason tool_use, input as an object (golden)', async () => {
    const body: Anthropic.Message = anthropicEncoder(identity).body([TOOL_RESULT]);
    expect(body.stop_reason).toBe('tool_use');
    expect(body.content[1]).toMatchObject({
      type: 'tool_use',
      id: 'toolu_0123456789abcdef01234567',
      name: 'get_weather',
      input: { city: 'Paris' },
    });
    await expect(pretty(body)).toMatchFileSnapshot(golden('tool-body'));
  });

  it('says the context ran out when an answer is cut before max_tokens', () => {
    const body = anthropicEncoder({ ...identity, maxTokens: 64 }).body([TEXT_RESULT]);
    expect(body.stop_reason).toBe('model_context_window_exceeded');
  });

  it('names the stop sequence that ended the answer, and only a requested one', () => {
    const stopped = { ...TEXT_RESULT, finishReason: 'stop' as const, stopSequence: '\n\nHuman:' };
    expect(anthropicEncoder(identity).body([stopped])).toMatchObject({
      stop_reason: 'stop_sequence',
      stop_sequence: '\n\nHuman:',
    });
    const template = { ...stopped, stopSequence: '<|im_end|>' };
    expect(anthropicEncoder(identity).body([template])).toMatchObject({
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
  });

  it('streams message_start, ping, the blocks, message_delta, message_stop (golden)', async () => {
    const encoder = anthropicEncoder(identity);
    const events = [
      ...encoder.open(1, [42]),
      ...[...TEXT_EVENTS, ...TOOL_EVENTS].flatMap((event) => encoder.event(event, 0)),
      ...encoder.close([TOOL_RESULT]),
    ].map((chunk) => JSON.parse(chunk) as Anthropic.RawMessageStreamEvent | { type: 'ping' });
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const json = events
      .flatMap((event) =>
        event.type === 'content_block_delta' && event.delta.type === 'input_json_delta'
          ? [event.delta.partial_json]
          : [],
      )
      .join('');
    expect(JSON.parse(json)).toEqual({ city: 'Paris' });
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: 17, input_tokens: 30, cache_read_input_tokens: 12 },
    });
    await expect(pretty(events)).toMatchFileSnapshot(golden('stream'));
  });

  it('renders errors in its shape, overloaded as 529', () => {
    const busy = new ApiError(errorCatalogue.overloaded, 'Too many requests queued.');
    expect(anthropicStatus(busy)).toBe(529);
    expect(toAnthropicError(busy, 'req-1')).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Too many requests queued.' },
      request_id: 'req-1',
    });
    expect(toAnthropicError(busy).request_id).toBeNull();
    const missing = new ApiError(llmchatErrors.modelNotFound, "The model 'x' does not exist.");
    expect(toAnthropicError(missing).error.type).toBe('not_found_error');
    // A model that failed to load: retrying will not help, so not "overloaded".
    const broken = new ApiError(llmchatErrors.modelUnavailable, 'The model failed to load.');
    expect([anthropicStatus(broken), toAnthropicError(broken).error.type]).toEqual([
      500,
      'api_error',
    ]);
    const long = new ApiError(llmchatErrors.contextLengthExceeded, 'Too long.', {
      param: 'messages',
      cause: new ContextLengthExceededError(5000, 4096, 'messages'),
    });
    expect(toAnthropicError(long).error.message).toMatch(
      /^prompt is too long: 5000 tokens > 4096 maximum\./,
    );
    const field = new ApiError(errorCatalogue.invalidRequest, 'expected a number', {
      param: 'max_tokens',
    });
    expect(toAnthropicError(field).error.message).toBe('max_tokens: expected a number');
  });
});
