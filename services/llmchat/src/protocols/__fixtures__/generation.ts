import type { Token } from 'node-llama-cpp';
import type { GenerationEvent } from '../../engine/types.js';
import type { FinishedGeneration } from '../../generation/native-request.js';

/*
 * One recorded generation (events in order, then the result) that every
 * protocol's golden test encodes: what the engine produced for a chat turn
 * that said a few words and then called a tool.
 */

export const TEXT_EVENTS: GenerationEvent[] = [
  { type: 'text', delta: 'Let me' },
  { type: 'text', delta: ' check "the" weather.\n' },
];

export const TOOL_EVENTS: GenerationEvent[] = [
  { type: 'tool_call_start', index: 0, id: 'call_0123456789abcdef01234567', name: 'get_weather' },
  { type: 'tool_call_arguments', index: 0, fragment: '{"city": ' },
  { type: 'tool_call_arguments', index: 0, fragment: '"Paris"}' },
];

const timings = {
  promptEvaluated: 30,
  promptCached: 12,
  timeToFirstTokenMs: 25.123,
  decodeMs: 180.5,
  loadMs: 0,
  queueMs: 3.25,
  totalMs: 209.9,
};

export const TEXT_RESULT: FinishedGeneration = {
  finishReason: 'length',
  text: 'Let me check "the" weather.\n',
  toolCalls: [],
  promptTokens: 42,
  completionTokens: 9,
  promptTokenIds: [1, 415, 2502],
  outputTokens: [3008, 592, 1423] as Token[],
  modelId: 'stories260K',
  timings,
};

export const TOOL_RESULT: FinishedGeneration = {
  finishReason: 'tool_calls',
  text: 'Let me check "the" weather.\n',
  toolCalls: [
    { id: 'call_0123456789abcdef01234567', name: 'get_weather', arguments: '{"city": "Paris"}' },
  ],
  promptTokens: 42,
  completionTokens: 17,
  promptTokenIds: [1, 415, 2502],
  outputTokens: [3008, 592, 1423] as Token[],
  modelId: 'stories260K',
  timings,
};

/** A two-token answer with logprobs asked (top 2): each token's entry comes before its text. */
const LOGPROB_ENTRIES = [
  {
    token: 3008 as Token,
    text: 'Hi',
    logprob: -0.25,
    top: [
      { token: 3008 as Token, text: 'Hi', logprob: -0.25 },
      { token: 592 as Token, text: 'Oh', logprob: -1.75 },
    ],
  },
  {
    token: 1423 as Token,
    text: ' ü',
    logprob: -0.5,
    top: [
      { token: 1423 as Token, text: ' ü', logprob: -0.5 },
      { token: 17 as Token, text: '!', logprob: -2 },
    ],
  },
];

export const LOGPROB_EVENTS: GenerationEvent[] = [
  { type: 'logprobs', entries: [LOGPROB_ENTRIES[0] as (typeof LOGPROB_ENTRIES)[number]] },
  { type: 'text', delta: 'Hi' },
  { type: 'logprobs', entries: [LOGPROB_ENTRIES[1] as (typeof LOGPROB_ENTRIES)[number]] },
  { type: 'text', delta: ' ü' },
];

export const LOGPROB_RESULT: FinishedGeneration = {
  ...TEXT_RESULT,
  finishReason: 'stop',
  text: 'Hi ü',
  completionTokens: 2,
  outputTokens: [3008, 1423] as Token[],
  logprobs: LOGPROB_ENTRIES,
};
