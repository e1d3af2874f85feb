import { readFileSync } from 'node:fs';
import { ApiError, errorCatalogue, parseRequest } from 'hrserve';
import { describe, expect, it } from 'vitest';
import type { GenerationEvent } from '../engine/types.js';
import type { FinishedGeneration } from '../generation/native-request.js';
import {
  LOGPROB_EVENTS,
  LOGPROB_RESULT,
  TEXT_EVENTS,
  TEXT_RESULT,
  TOOL_EVENTS,
  TOOL_RESULT,
} from './__fixtures__/generation.js';
import { ollamaChatSchema, ollamaGenerateSchema } from './ollama/requests.js';
import { ollamaEncoder } from './ollama/responses.js';
import { ollamaChatToNative, ollamaGenerateToNative } from './ollama/to-native.js';
import { chatCompletionRequestSchema, completionRequestSchema } from './openai/chat-request.js';
import { chatCompletionEncoder } from './openai/chat-response.js';
import { textCompletionEncoder } from './openai/completion-response.js';
import { chatCompletionToNative, completionToNative } from './openai/to-native.js';
import type { WireEncoder } from './wire-encoder.js';

/*
 * Golden wire fixtures: recorded requests in __fixtures__/*-request.json, what each
 * converter makes of them, and the exact chunks and bodies each encoder writes for
 * recorded generations, kept in __fixtures__/*.golden.json. A change to any of
 * them is a change clients see: review the diff (`vitest -u` rewrites them).
 */

const recorded = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
const golden = (name: string) => `./__fixtures__/${name}.golden.json`;
const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

interface Choice {
  events: GenerationEvent[];
  result: FinishedGeneration;
}

/** Every chunk a stream carries, parsed, in order: each choice's events in turn. */
function streamOf<Body>(encoder: WireEncoder<Body>, choices: Choice[]): unknown[] {
  const chunks = [
    ...encoder.open(choices.length),
    ...choices.flatMap(({ events }, index) =>
      events.flatMap((event) => encoder.event(event, index)),
    ),
    ...encoder.close(choices.map(({ result }) => result)),
  ];
  return chunks.map((chunk) => JSON.parse(chunk));
}

const IDENTITY = {
  id: 'chatcmpl-0123456789abcdef01234567',
  created: 1_764_460_800,
  model: 'stories',
};
const FIXED_CLOCK = () => new Date('2026-11-30T12:00:00.000Z');
const FAILURE = new ApiError(errorCatalogue.internal, 'Generation failed.');
const TEXT_THEN_TOOL: Choice = { events: [...TEXT_EVENTS, ...TOOL_EVENTS], result: TOOL_RESULT };

describe('OpenAI chat completions', () => {
  const body = parseRequest(chatCompletionRequestSchema, recorded('openai-chat-request.json'));

  it('request → native request', async () => {
    await expect(pretty(chatCompletionToNative(body))).toMatchFileSnapshot(
      golden('openai-chat-request.native'),
    );
  });

  it('a stream: role, text and tool-call deltas, finish, usage with timings', async () => {
    const encoder = chatCompletionEncoder(IDENTITY, { includeUsage: true });
    await expect(pretty(streamOf(encoder, [TEXT_THEN_TOOL]))).toMatchFileSnapshot(
      golden('openai-chat-stream'),
    );
  });

  it('bodies: text cut by the limit, and text with a tool call; an error event', async () => {
    const encoder = chatCompletionEncoder(IDENTITY, { includeUsage: false });
    await expect(
      pretty({
        text: encoder.body([TEXT_RESULT]),
        tool_call: encoder.body([TOOL_RESULT]),
        stream_close_without_usage: encoder.close([TEXT_RESULT]).map((chunk) => JSON.parse(chunk)),
        error_event: JSON.parse(encoder.error(FAILURE)),
      }),
    ).toMatchFileSnapshot(golden('openai-chat-bodies'));
  });
});

describe('OpenAI chat completions with n: 2', () => {
  it('a stream: each choice its role, deltas and finish by index; usage counting the prompt once', async () => {
    const second: Choice = {
      events: TEXT_EVENTS.slice(0, 1),
      result: {
        ...TEXT_RESULT,
        finishReason: 'stop',
        text: 'Let me',
        completionTokens: 2,
        sharedPrompt: true,
      },
    };
    const first: Choice = { events: TEXT_EVENTS, result: TEXT_RESULT };
    const encoder = chatCompletionEncoder(IDENTITY, { includeUsage: true });
    await expect(
      pretty({
        stream: streamOf(encoder, [first, second]),
        body: encoder.body([first.result, second.result]),
      }),
    ).toMatchFileSnapshot(golden('openai-chat-choices'));
  });
});

describe('OpenAI legacy completions', () => {
  const body = parseRequest(completionRequestSchema, recorded('openai-completion-request.json'));

  it('request → native requests: one per prompt (texts or token ids), 16 tokens by default', async () => {
    const texts = parseRequest(completionRequestSchema, {
      ...body,
      prompt: ['Once upon a time', 'The end'],
    });
    const tokens = parseRequest(completionRequestSchema, {
      ...body,
      prompt: [
        [1, 15, 7],
        [1, 9],
      ],
    });
    await expect(
      pretty({
        one: completionToNative(body),
        two_texts: completionToNative(texts).map((native) => native.prompt),
        two_token_lists: completionToNative(tokens).map((native) => native.prompt),
      }),
    ).toMatchFileSnapshot(golden('openai-completion-request.native'));
  });

  it('stream chunks and the body, with two choices (two prompts)', async () => {
    const identity = { ...IDENTITY, id: 'cmpl-0123456789abcdef01234567' };
    const first: Choice = { events: TEXT_EVENTS, result: TEXT_RESULT };
    const second: Choice = {
      events: TEXT_EVENTS.slice(0, 1),
      result: { ...TEXT_RESULT, finishReason: 'stop', text: 'Let me', completionTokens: 2 },
    };
    const encoder = (includeUsage: boolean) => textCompletionEncoder(identity, { includeUsage });
    await expect(
      pretty({
        stream: streamOf(encoder(true), [first, second]),
        stream_without_usage: streamOf(encoder(false), [first]),
        body: encoder(false).body([first.result, second.result]),
      }),
    ).toMatchFileSnapshot(golden('openai-completion-answers'));
  });
});

describe('Ollama', () => {
  it('/api/chat request → native request', async () => {
    const body = parseRequest(ollamaChatSchema, recorded('ollama-chat-request.json'));
    await expect(pretty(ollamaChatToNative(body))).toMatchFileSnapshot(
      golden('ollama-chat-request.native'),
    );
  });

  it('/api/generate raw request → native request', async () => {
    const body = parseRequest(ollamaGenerateSchema, recorded('ollama-generate-request.json'));
    await expect(pretty(ollamaGenerateToNative(body))).toMatchFileSnapshot(
      golden('ollama-generate-request.native'),
    );
  });

  it('/api/chat lines (tool calls whole on the done line) and /api/generate body', async () => {
    await expect(
      pretty({
        chat_stream: streamOf(ollamaEncoder('chat', 'stories', FIXED_CLOCK), [TEXT_THEN_TOOL]),
        generate_body: ollamaEncoder('generate', 'stories', FIXED_CLOCK).body([TEXT_RESULT]),
        error_line: JSON.parse(ollamaEncoder('chat', 'stories').error(FAILURE)),
      }),
    ).toMatchFileSnapshot(golden('ollama-answers'));
  });
});

describe('logprobs on every protocol that returns them', () => {
  const answer: Choice = { events: LOGPROB_EVENTS, result: LOGPROB_RESULT };
  it('chat chunks and body, legacy completion chunks and body, Ollama lines and body', async () => {
    const chat = chatCompletionEncoder(IDENTITY, { includeUsage: false });
    const completion = textCompletionEncoder(
      { ...IDENTITY, id: 'cmpl-0123456789abcdef01234567' },
      { includeUsage: false, logprobs: 2 },
    );
    await expect(
      pretty({
        chat_stream: streamOf(chat, [answer]),
        chat_body: chat.body([LOGPROB_RESULT]),
        completion_stream: streamOf(completion, [answer]),
        completion_body: completion.body([LOGPROB_RESULT]),
        ollama_chat_stream: streamOf(ollamaEncoder('chat', 'stories', FIXED_CLOCK), [answer]),
        ollama_generate_body: ollamaEncoder('generate', 'stories', FIXED_CLOCK).body([
          LOGPROB_RESULT,
        ]),
      }),
    ).toMatchFileSnapshot(golden('logprobs-answers'));
  });
});
