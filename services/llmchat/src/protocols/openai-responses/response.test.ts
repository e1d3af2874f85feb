import { ApiError, errorCatalogue, parseRequest } from 'hrserve';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { TEXT_EVENTS, TEXT_RESULT, TOOL_EVENTS, TOOL_RESULT } from '../__fixtures__/generation.js';
import { responseCreateRequestSchema } from './request.js';
import { type ResponseIdentity, responsesEncoder } from './response.js';

/*
 * The Response object and its stream for recorded generations, byte for byte
 * in golden files, and checked against the official client's types: a body
 * must be assignable to its `Response` (compile time), every stream event be
 * one of its `ResponseStreamEvent` types, numbered from 0 without gaps.
 */

const request = parseRequest(responseCreateRequestSchema, {
  model: 'stories260K',
  instructions: 'Be brief.',
  input: 'Weather in Paris?',
  tools: [
    {
      type: 'function',
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
      strict: false,
    },
  ],
  metadata: { job: 'weather' },
} satisfies OpenAI.Responses.ResponseCreateParamsNonStreaming);

function identity(): ResponseIdentity {
  let next = 0;
  return {
    id: 'resp_0123456789abcdef01234567',
    createdAt: 1_764_460_800,
    request,
    store: true,
    itemId: (prefix) => `${prefix}_${String(next++).padStart(24, '0')}`,
    now: () => 1_764_460_801,
  };
}

const golden = (name: string) => `../__fixtures__/openai-responses-${name}.golden.json`;
const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** What the official client's types accept as a Response (fields it fills itself left out). */
type ClientResponse = Omit<OpenAI.Responses.Response, 'access_programs'>;

const STREAM_TYPES = new Set<OpenAI.Responses.ResponseStreamEvent['type']>([
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  'response.output_text.delta',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.function_call_arguments.delta',
  'response.function_call_arguments.done',
  'response.completed',
  'response.incomplete',
  'error',
]);

describe('Responses answers', () => {
  it('a text answer cut at max_output_tokens: status incomplete (golden, client-typed)', async () => {
    const body: ClientResponse = responsesEncoder(identity()).body([TEXT_RESULT]);
    expect(body).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output_text: TEXT_RESULT.text,
      usage: { input_tokens: 42, output_tokens: 9, input_tokens_details: { cached_tokens: 12 } },
    });
    await expect(pretty(body)).toMatchFileSnapshot(golden('text-body'));
  });

  it('text then a call: a message item, then a function_call item (golden)', async () => {
    const body: ClientResponse = responsesEncoder(identity()).body([TOOL_RESULT]);
    expect(body.output.map((item) => item.type)).toEqual(['message', 'function_call']);
    expect(body.output[1]).toMatchObject({
      call_id: 'call_0123456789abcdef01234567',
      name: 'get_weather',
      arguments: '{"city": "Paris"}',
      status: 'completed',
    });
    await expect(pretty(body)).toMatchFileSnapshot(golden('tool-body'));
  });

  it('streams the events in order, numbered from 0, ending with the same Response (golden)', async () => {
    const encoder = responsesEncoder(identity());
    const chunks = [
      ...encoder.open(1),
      ...[...TEXT_EVENTS, ...TOOL_EVENTS].flatMap((event) => encoder.event(event, 0)),
      ...encoder.close([TOOL_RESULT]),
    ].map((chunk) => JSON.parse(chunk) as OpenAI.Responses.ResponseStreamEvent);
    expect(chunks.map((chunk) => chunk.sequence_number)).toEqual(chunks.map((_, index) => index));
    for (const chunk of chunks) expect(STREAM_TYPES.has(chunk.type), chunk.type).toBe(true);
    const last = chunks.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(last.type).toBe('response.completed');
    // The deltas add up to what the final Response holds.
    const deltas = chunks
      .filter((chunk) => chunk.type === 'response.output_text.delta')
      .map((chunk) => (chunk as OpenAI.Responses.ResponseTextDeltaEvent).delta)
      .join('');
    expect(last.response.output_text ?? '').toBe(deltas);
    expect(last.response.output.map((item) => item.type)).toEqual(['message', 'function_call']);
    await expect(pretty(chunks)).toMatchFileSnapshot(golden('stream'));
  });

  it('an empty answer streams its empty message, as the non-streamed object has it', () => {
    const empty = { ...TEXT_RESULT, finishReason: 'stop' as const, text: '', completionTokens: 1 };
    const plain = responsesEncoder(identity()).body([empty]);
    for (const finalFirst of [false, true]) {
      const encoder = responsesEncoder(identity());
      const opened = encoder.open(1);
      // The route stores the final object before the closing events are sent.
      const stored = finalFirst ? encoder.final([empty]) : undefined;
      const chunks = [...opened, ...encoder.close([empty])].map(
        (chunk) => JSON.parse(chunk) as OpenAI.Responses.ResponseStreamEvent,
      );
      expect(chunks.map((chunk) => chunk.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(chunks.map((chunk) => chunk.sequence_number)).toEqual(chunks.map((_, i) => i));
      const last = chunks.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      expect(last.response.output).toEqual(plain.output);
      if (stored) expect(stored.output).toEqual(plain.output);
    }
  });

  it('an error after the stream started is an `error` event with the catalogue code', () => {
    const encoder = responsesEncoder(identity());
    encoder.open(1);
    const event = JSON.parse(
      encoder.error(new ApiError(errorCatalogue.internal, 'Generation failed.')),
    ) as OpenAI.Responses.ResponseErrorEvent;
    expect(event).toMatchObject({
      type: 'error',
      sequence_number: 2,
      message: 'Generation failed.',
    });
  });
});
