import { readFileSync } from 'node:fs';
import { ApiError, parseRequest } from 'hrserve';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FinishedScoring } from '../../generation/native-request.js';
import { decisionCreateRequestSchema } from './request.js';
import { confidenceOf, decisionBody, distribution } from './response.js';
import { decisionToNative } from './to-native.js';

/*
 * The Decisions converter and answer builder, pure: a recorded request (typed against the
 * openai client's DecisionCreateParams) → the native scoring request, and recorded scores
 * → the Decision body, both as golden fixtures (`vitest -u` rewrites them).
 */

const recorded: OpenAI.DecisionCreateParams = JSON.parse(
  readFileSync(new URL('../__fixtures__/openai-decisions-request.json', import.meta.url), 'utf8'),
);
const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const plan = decisionToNative(parseRequest(decisionCreateRequestSchema, recorded));

/** Scores as the engine would give them for the three asked questions (log-probabilities). */
const SCORED: FinishedScoring = {
  logprobs: [
    [Math.log(0.3), Math.log(0.1)],
    [Math.log(0.02), Math.log(0.01), Math.log(0.01)],
    [-Infinity, Math.log(0.5), Math.log(0.5)],
  ],
  inputTokens: 180,
  cachedTokens: 96,
  evaluatedTokens: 70,
  scoreMs: 12,
  modelId: 'stories260K',
  timings: { loadMs: 0, queueMs: 1, totalMs: 14 },
};

describe('Decisions', () => {
  it('request → native scoring request (the image question planned as a refusal)', async () => {
    await expect(pretty(plan)).toMatchFileSnapshot(
      '../__fixtures__/openai-decisions-request.native.golden.json',
    );
    expect(plan.questions.map((question) => question.type)).toEqual([
      'predicate',
      'choice',
      'score',
      'refusal',
    ]);
    expect(plan.native.questions).toHaveLength(3);
  });

  it('scores → the Decision body, typed as the openai client reads it', async () => {
    const body: OpenAI.Decision = decisionBody(plan, SCORED);
    await expect(pretty(body)).toMatchFileSnapshot(
      '../__fixtures__/openai-decisions-body.golden.json',
    );
    const [predicate, choice, score, refusal] = body.answers;
    expect(predicate).toMatchObject({ type: 'predicate', probability: expect.closeTo(0.75, 9) });
    expect(choice).toMatchObject({ type: 'choice', choice: 'billing' });
    expect(score).toMatchObject({ type: 'score', score: expect.closeTo(1.5, 9) });
    expect(refusal).toEqual({ type: 'refusal', name: 'screenshot' });
  });

  it('an image in the input: every question is a refusal, none is asked', () => {
    const withImage = decisionToNative(
      parseRequest(decisionCreateRequestSchema, {
        ...recorded,
        input: [
          {
            role: 'user',
            content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }],
          },
        ],
      }),
    );
    expect(withImage.native.questions).toEqual([]);
    expect(withImage.questions.every((question) => question.type === 'refusal')).toBe(true);
  });

  it('distribution and confidence: softmax over the answers, 1 − normalised entropy', () => {
    const [yes, no] = distribution([Math.log(3), Math.log(1)]);
    expect(yes).toBeCloseTo(0.75, 12);
    expect(no).toBeCloseTo(0.25, 12);
    expect(distribution([-Infinity, -Infinity])).toEqual([0.5, 0.5]);
    expect(confidenceOf([1, 0, 0])).toBe(1);
    expect(confidenceOf([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(0, 12);
    expect(confidenceOf([0.9, 0.1])).toBeCloseTo(
      1 - (0.9 * -Math.log(0.9) + 0.1 * -Math.log(0.1)) / Math.log(2),
      12,
    );
  });

  it('refuses duplicate names, choices that read alike and unmatched tool outputs, by field', () => {
    const paramOf = (body: unknown) => {
      try {
        decisionToNative(parseRequest(decisionCreateRequestSchema, body));
      } catch (error) {
        if (error instanceof ApiError) return error.param;
        throw error;
      }
      return undefined;
    };
    const questions = [{ type: 'predicate', instructions: 'x' }];
    expect(
      paramOf({
        model: 'm',
        input: 'x',
        questions: [{ type: 'score', instructions: 'x', levels: [{ label: 'a' }, { label: 'a' }] }],
      }),
    ).toBe('questions.0.levels.1.label');
    expect(
      paramOf({
        model: 'm',
        input: [{ type: 'custom_tool_call_output', call_id: 'c', output: 'x' }],
        questions,
      }),
    ).toBe('input.0.call_id');
    expect(paramOf({ model: 'm', input: [{ role: 'robot', content: 'x' }], questions })).toBe(
      'input.0',
    );
    expect(paramOf({ model: 'm', input: 'x', questions: Array(401).fill(questions[0]) })).toBe(
      'questions',
    );
  });
});
