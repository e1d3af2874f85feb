import { describe, expect, it } from 'vitest';
import { report, runSuite } from './suite.js';

describe('the reliability and security suite (CI size)', () => {
  it('passes every scenario against a real llmchat', async () => {
    const results = await runSuite();
    // The figures land in the test log, where CI keeps them.
    console.log(report(results));
    expect(
      results.flatMap((result) => result.failures.map((failure) => `${result.name}: ${failure}`)),
    ).toEqual([]);
  }, 1_200_000);
});
