import type { Token } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { logprobsFromLogits, probeLogprobs } from './logprobs.js';
import type { NativeSampler } from './native.js';

/** A three-token vocabulary with these raw logits. */
const LOGITS = new Map<number, number>([
  [7, 2],
  [8, 1],
  [9, -1],
]);
const softmax = (token: number) => {
  const total = [...LOGITS.values()].reduce((sum, logit) => sum + Math.exp(logit), 0);
  return Math.log(Math.exp(LOGITS.get(token) ?? 0) / total);
};
const weight = [...LOGITS.values()].reduce((sum, logit) => sum + Math.exp(logit - 2), 0);

describe('logprobs from raw logits', () => {
  it('is the log-softmax of the logits, the sampled token and the top ones', () => {
    const result = logprobsFromLogits(8 as Token, [7, 2, 8, 1, 8, 1], weight, 2);
    expect(result.logprob).toBeCloseTo(softmax(8), 10);
    expect(result.top.map((entry) => entry.token)).toEqual([7, 8]);
    expect(result.top[0]?.logprob).toBeCloseTo(softmax(7), 10);
  });

  it('gives no alternatives for top 0, and a sampled token outside the top its own', () => {
    const result = logprobsFromLogits(9 as Token, [7, 2, 9, -1], weight, 0);
    expect(result.top).toEqual([]);
    expect(result.logprob).toBeCloseTo(softmax(9), 10);
  });

  it('asks the native probe for the top logits, the sampled token and the total weight', async () => {
    const calls: unknown[][] = [];
    const backend = {
      sampleToken: async (...args: unknown[]) => {
        calls.push(args);
        return [7, undefined, undefined, [7, 2, 9, -1], weight];
      },
    };
    const result = await probeLogprobs(backend as never, 3, {} as NativeSampler, 9 as Token, 0);
    expect(calls[0]?.slice(2)).toEqual([false, false, [[9], false, false, false, 1], true]);
    expect(result.logprob).toBeCloseTo(softmax(9), 10);
  });
});
