import type { Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';
import type { ModelEngine } from './model-engine.js';
import { type GenerationResult, SILENT_SINK } from './types.js';

/*
 * Scoring by teacher forcing agrees with generation: the log-probability the engine scores
 * for a greedy answer's tokens is the sum of the log-probabilities generation reported for
 * them, one by one (stories260K, real weights).
 */

describe('engine scoring', () => {
  let server: TestServer;
  let engine: ModelEngine;
  let release: () => void;
  beforeAll(async () => {
    server = await startLlmchat();
    const lease = await server.models.acquire('stories260K');
    engine = lease.engine;
    release = lease.release;
  });
  afterAll(async () => {
    release?.();
    await server?.close();
  });

  async function generate(promptTokens: Token[]): Promise<GenerationResult> {
    const reservation = engine.reserve({});
    try {
      const prepared = await engine.prepare({}, () => ({
        promptTokens,
        maxTokens: 6,
        sampling: { temperature: 0 },
        stop: [],
        stopTokens: [],
        logprobs: { top: 0 },
      }));
      await reservation.waitForTurn();
      return await engine.run(reservation, prepared, SILENT_SINK, new AbortController().signal);
    } finally {
      reservation.release();
    }
  }

  async function score(promptTokens: Token[], answers: Token[][]): Promise<number[]> {
    const reservation = engine.reserve({});
    try {
      await reservation.waitForTurn();
      const result = await engine.score(
        reservation,
        { questions: [{ promptTokens, answers }] },
        new AbortController().signal,
      );
      return result.logprobs[0] ?? [];
    } finally {
      reservation.release();
    }
  }

  it("scores a greedy answer as the sum of its tokens' generated log-probabilities", async () => {
    const prompt = engine.renderChat([{ role: 'user', content: 'Once upon a time' }], []).tokens;
    const generated = await generate(prompt);
    const tokens = generated.outputTokens;
    expect(tokens.length).toBeGreaterThan(2);
    const expected = (generated.logprobs ?? []).map((entry) => entry.logprob);
    const prefixes = [1, 2, tokens.length].map((length) => tokens.slice(0, length));
    const scored = await score(prompt, prefixes);
    prefixes.forEach((prefix, index) => {
      const sum = expected.slice(0, prefix.length).reduce((total, value) => total + value, 0);
      expect(Math.abs((scored[index] ?? 0) - sum)).toBeLessThan(2e-3);
    });
    // A different first token scores lower than the greedy one (it was not the argmax).
    const other = ((tokens[0] ?? 0) + 1) as Token;
    const [greedy, worse] = await score(prompt, [[tokens[0] as Token], [other]]);
    expect(greedy).toBeGreaterThan(worse ?? 0);
  });
});
