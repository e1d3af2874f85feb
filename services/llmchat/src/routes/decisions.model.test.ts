import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

/* POST /v1/decisions through the official openai client (7.x), on stories260K. */

const model = 'stories260K';
const input = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

describe('/v1/decisions with the openai client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat();
  });
  afterAll(() => server?.close());

  it('answers a predicate, a choice and a score, in order, with probabilities', async () => {
    const decision = await server.openai.decisions.create({
      model,
      input,
      questions: [
        { type: 'predicate', name: 'outside', instructions: 'Lily likes to play outside.' },
        {
          type: 'choice',
          name: 'who',
          instructions: 'Who is the story about?',
          choices: [
            { value: 'Lily' },
            { value: 'a big dog', description: 'an animal' },
            { value: true },
          ],
        },
        {
          type: 'score',
          instructions: 'How happy is the story?',
          levels: [{ label: 'sad' }, { label: 'fine' }, { label: 'very happy' }],
        },
      ],
    });
    expect(decision.model).toBe(model);
    const [predicate, choice, score] = decision.answers;
    expect(predicate).toMatchObject({ type: 'predicate', name: 'outside' });
    if (predicate?.type !== 'predicate') throw new Error('not a predicate');
    expect(predicate.probability).toBeGreaterThanOrEqual(0);
    expect(predicate.probability).toBeLessThanOrEqual(1);

    if (choice?.type !== 'choice') throw new Error('not a choice');
    expect(choice.name).toBe('who');
    expect(choice.probabilities.map((entry) => entry.value)).toEqual(['Lily', 'a big dog', true]);
    expect(sum(choice.probabilities.map((entry) => entry.probability))).toBeCloseTo(1, 9);
    const likeliest = [...choice.probabilities].sort((a, b) => b.probability - a.probability)[0];
    expect(choice.choice).toBe(likeliest?.value);
    expect(choice.confidence).toBeGreaterThanOrEqual(0);
    expect(choice.confidence).toBeLessThanOrEqual(1);

    if (score?.type !== 'score') throw new Error('not a score');
    expect(score.name).toBeNull();
    expect(score.probabilities.map((entry) => [entry.label, entry.value])).toEqual([
      ['sad', 0],
      ['fine', 1],
      ['very happy', 2],
    ]);
    const expected = sum(score.probabilities.map((entry) => entry.probability * entry.value));
    expect(score.score).toBeCloseTo(expected, 9);
    expect(decision.usage.input_tokens).toBeGreaterThan(0);
    expect(decision.usage.output_tokens).toBe(0);
  });

  it('evaluates the shared input once: later questions and a repeat reuse its KV state', async () => {
    const questions: OpenAI.DecisionCreateParams['questions'] = [
      { type: 'predicate', instructions: 'Lily is a girl.' },
      { type: 'predicate', instructions: 'Lily is a cat.' },
    ];
    const first = await server.openai.decisions.create({ model, input: `${input} A`, questions });
    const again = await server.openai.decisions.create({ model, input: `${input} A`, questions });
    // The second question reuses the input the first evaluated.
    expect(first.usage.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    // The repeat reuses more, and gets the same answers (no sampling).
    expect(again.usage.input_tokens_details.cached_tokens).toBeGreaterThan(
      first.usage.input_tokens_details.cached_tokens,
    );
    expect(again.answers).toEqual(first.answers);
  });

  it('scores a multi-token choice by all its tokens, not by its first', async () => {
    // Two answers sharing their first token(s): only the tokens after differ.
    const decision = await server.openai.decisions.create({
      model,
      input,
      questions: [
        {
          type: 'choice',
          instructions: 'Where did Lily play?',
          choices: [{ value: 'in the park' }, { value: 'in the house' }],
        },
      ],
    });
    const [answer] = decision.answers;
    if (answer?.type !== 'choice') throw new Error('not a choice');
    const [park, house] = answer.probabilities.map((entry) => entry.probability);
    // Scored by their first token only, the two would tie at exactly 0.5.
    expect(Math.abs((park ?? 0) - (house ?? 0))).toBeGreaterThan(1e-6);
  });

  it('refuses per question what the model cannot be asked (an image), answering the rest', async () => {
    const decision = await server.openai.decisions.create({
      model,
      input,
      questions: [
        {
          type: 'predicate',
          name: 'pictured',
          instructions: [
            { type: 'input_text', text: 'The picture shows Lily.' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
          ],
        },
        { type: 'predicate', name: 'girl', instructions: 'Lily is a girl.' },
      ],
    });
    expect(decision.answers[0]).toEqual({ type: 'refusal', name: 'pictured' });
    expect(decision.answers[1]).toMatchObject({ type: 'predicate', name: 'girl' });
  });

  it("refuses bad input by field, in OpenAI's error shape", async () => {
    const ask = (body: Record<string, unknown>) =>
      server.openai.decisions.create({
        model,
        input,
        questions: [{ type: 'predicate', instructions: 'x' }],
        ...body,
      } as OpenAI.DecisionCreateParams);
    await expect(ask({ questions: [] })).rejects.toMatchObject({ status: 400, param: 'questions' });
    await expect(
      ask({ questions: [{ type: 'choice', instructions: 'x', choices: [{ value: 'a' }] }] }),
    ).rejects.toMatchObject({ status: 400, param: 'questions.0.choices' });
    await expect(
      ask({
        questions: [
          { type: 'choice', instructions: 'x', choices: [{ value: 'true' }, { value: true }] },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'questions.0.choices.1.value' });
    await expect(
      ask({
        questions: [
          { type: 'predicate', name: 'a', instructions: 'x' },
          { type: 'predicate', name: 'a', instructions: 'y' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'questions.1.name' });
    await expect(ask({ questions: [{ type: 'guess', instructions: 'x' }] })).rejects.toMatchObject({
      status: 400,
      param: 'questions.0.type',
    });
    await expect(
      ask({ input: [{ type: 'function_call_output', call_id: 'c1', output: 'x' }] }),
    ).rejects.toMatchObject({ status: 400, param: 'input.0.call_id' });
    await expect(ask({ model: 'nope' })).rejects.toMatchObject({ status: 404 });
    await expect(ask({ input: 'word '.repeat(5000) })).rejects.toMatchObject({
      status: 400,
      param: 'input',
    });
  });
});
