import { ApiError } from 'hrserve';
import { describe, expect, it } from 'vitest';
import { type ChatCompletionRequest, chatCompletionRequestSchema } from './chat-request.js';
import {
  chatCompletionToNative,
  planTools,
  rejectUnsupported,
  toChatMessages,
  toSampling,
} from './to-native.js';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const parse = (patch: Record<string, unknown>): ChatCompletionRequest =>
  chatCompletionRequestSchema.parse({ ...base, ...patch });
const tool = (name: string) => ({
  type: 'function',
  function: { name, parameters: { type: 'object' } },
});

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('planTools', () => {
  it('defaults to auto with tools, none without, and describes tools unless "none"', () => {
    expect(planTools(parse({})).choice).toBe('none');
    const auto = planTools(parse({ tools: [tool('a'), tool('b')] }));
    expect(auto).toMatchObject({ choice: 'auto', parallel: true });
    expect(auto.callable.map((t) => t.name)).toEqual(['a', 'b']);
    const none = planTools(parse({ tools: [tool('a')], tool_choice: 'none' }));
    expect(none.described).toEqual([]);
  });

  it('turns a named choice into a required call of that tool alone, without parallel calls', () => {
    const named = planTools(
      parse({
        tools: [tool('a'), tool('b')],
        tool_choice: { type: 'function', function: { name: 'b' } },
      }),
    );
    expect(named.choice).toBe('required');
    expect(named.callable.map((t) => t.name)).toEqual(['b']);
    expect(named.described.map((t) => t.name)).toEqual(['a', 'b']);
    expect(named.parallel).toBe(false);
  });

  it('honours parallel_tool_calls false and rejects duplicate names', () => {
    expect(planTools(parse({ tools: [tool('a')], parallel_tool_calls: false })).parallel).toBe(
      false,
    );
    expect(apiError(() => planTools(parse({ tools: [tool('a'), tool('a')] }))).param).toBe(
      'tools.1.function.name',
    );
  });
});

describe('request translation', () => {
  it('flattens text parts, maps developer to system and keeps assistant tool calls', () => {
    const messages = toChatMessages(
      parse({
        messages: [
          { role: 'developer', content: 'rules' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'result' },
        ],
      }).messages,
    );
    expect(messages).toEqual([
      { role: 'system', content: 'rules' },
      { role: 'user', content: 'ab' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] },
      { role: 'tool', content: 'result' },
    ]);
  });

  it('uses OpenAI sampling defaults and passes extensions through', () => {
    expect(toSampling(parse({}))).toEqual({ temperature: 1 });
    expect(
      toSampling(
        parse({
          temperature: 0,
          top_k: 5,
          min_p: 0.1,
          seed: 3,
          ignore_eos: true,
          logit_bias: { '42': -100 },
        }),
      ),
    ).toEqual({
      temperature: 0,
      topK: 5,
      minP: 0.1,
      seed: 3,
      ignoreEos: true,
      logitBias: { 42: -100 },
    });
  });

  it.each([
    ['functions', { functions: [] }],
    ['function_call', { function_call: 'auto' }],
    ['modalities', { modalities: ['text', 'audio'] }],
  ])('refuses %s by name', (param, patch) => {
    expect(apiError(() => rejectUnsupported(parse(patch))).param).toBe(param);
  });

  it('asks for logprobs with top_logprobs alternatives, and refuses top_logprobs alone', () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    const native = chatCompletionToNative(
      parse({ model: 'm', messages, logprobs: true, top_logprobs: 3 }),
    );
    expect(native.logprobs).toEqual({ top: 3 });
    expect(chatCompletionToNative(parse({ model: 'm', messages })).logprobs).toBeUndefined();
    expect(
      apiError(() => chatCompletionToNative(parse({ model: 'm', messages, top_logprobs: 3 })))
        .param,
    ).toBe('top_logprobs');
  });
});
