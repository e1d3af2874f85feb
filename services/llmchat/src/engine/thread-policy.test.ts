import { describe, expect, it } from 'vitest';
import { PARALLEL_WORK_BYTES, type ThreadChoice, threadChoice } from './thread-policy.js';

const MB = 1_000_000;

/**
 * Runs `decodes` decodes of `batchTokens` through `choice` on a simulated CPU where one
 * thread takes `oneThreadMs` and the budget takes `budgetMs`; returns the threads used.
 */
function run(
  choice: ThreadChoice,
  batchTokens: number,
  decodes: number,
  cpu: { oneThreadMs: number; budgetMs: number },
): number[] {
  const used: number[] = [];
  for (let i = 0; i < decodes; i++) {
    const threads = choice.threadsFor(batchTokens);
    used.push(threads);
    choice.observe(batchTokens, threads, threads === 1 ? cpu.oneThreadMs : cpu.budgetMs);
  }
  return used;
}

const count = (used: number[], threads: number) => used.filter((t) => t === threads).length;

describe('threadChoice', () => {
  it('starts from the prior: one thread for small work, the budget once tokens × weight bytes reach the threshold', () => {
    const small = threadChoice({ budget: 4, policy: 'auto' }, 30 * MB);
    expect(small.threadsFor(1)).toBe(1);
    expect(small.threadsFor(Math.ceil(PARALLEL_WORK_BYTES / (30 * MB)))).toBe(4);
    expect(small.threadsFor(512)).toBe(4);
    expect(threadChoice({ budget: 4, policy: 'auto' }, 91 * MB).threadsFor(1)).toBe(4);
    const tiny = threadChoice({ budget: 4, policy: 'auto' }, 1.2 * MB);
    expect(tiny.threadsFor(8)).toBe(1);
    expect(tiny.threadsFor(512)).toBe(4);
  });

  it('never more than the budget, and fixed uses all of it for every batch, whatever it measures', () => {
    const one = threadChoice({ budget: 1, policy: 'auto' }, 91 * MB);
    expect(run(one, 512, 100, { oneThreadMs: 1, budgetMs: 1 })).toEqual(Array(100).fill(1));
    const fixed = threadChoice({ budget: 2, policy: 'fixed' }, 1.2 * MB);
    expect(run(fixed, 1, 100, { oneThreadMs: 1, budgetMs: 50 })).toEqual(Array(100).fill(2));
  });

  it('measures: where the prior picks the budget but one thread is faster on this CPU, it switches to one', () => {
    // synth-100M, one token per decode, on a fast machine: 6 ms on one thread, 12 ms on two.
    const choice = threadChoice({ budget: 2, policy: 'auto' }, 91 * MB);
    const used = run(choice, 1, 200, { oneThreadMs: 6, budgetMs: 12 });
    expect(used[0]).toBe(2);
    // A handful of tries, then one thread, with a recheck of the budget now and then: rarer
    // while nothing changes.
    expect(count(used.slice(10), 2)).toBeLessThanOrEqual(2);
    expect(count(used, 2)).toBeLessThanOrEqual(8);
    const longer = run(choice, 1, 5_000, { oneThreadMs: 6, budgetMs: 12 });
    expect(count(longer, 2)).toBeLessThanOrEqual(8);
  });

  it('keeps the budget where it is faster, trying one thread only a few times', () => {
    // synth-100M on a slow machine: 19 ms on one thread, 17 ms on two.
    const choice = threadChoice({ budget: 2, policy: 'auto' }, 91 * MB);
    const used = run(choice, 1, 200, { oneThreadMs: 19, budgetMs: 17 });
    expect(count(used, 1)).toBeLessThanOrEqual(8);
    // Of the last 50, one thread at most once: a recheck.
    expect(count(used.slice(-50), 1)).toBeLessThanOrEqual(1);
  });

  it('where the prior picks one thread and the budget is faster, it switches to the budget', () => {
    const choice = threadChoice({ budget: 2, policy: 'auto' }, 30 * MB);
    const used = run(choice, 1, 50, { oneThreadMs: 10, budgetMs: 6 });
    expect(used[0]).toBe(1);
    expect(count(used.slice(-40), 1)).toBeLessThanOrEqual(1);
  });

  it('never tries one thread on a long decode: a large prompt is not slowed down to measure', () => {
    const choice = threadChoice({ budget: 2, policy: 'auto' }, 91 * MB);
    // A 512-token prompt taking 840 ms with the budget: one thread would take seconds.
    expect(run(choice, 512, 100, { oneThreadMs: 1_500, budgetMs: 840 })).toEqual(
      Array(100).fill(2),
    );
  });

  it('does not count a cold first decode, and stops trying one thread once it is far behind', () => {
    const choice = threadChoice({ budget: 8, policy: 'auto' }, 91 * MB);
    // The first decode is slow (cold caches); the budget is in fact the faster.
    expect(choice.threadsFor(1)).toBe(8);
    choice.observe(1, 8, 500);
    // One thread takes 5× the budget on this many-core host: tried once, then not until a recheck.
    const used = run(choice, 1, 60, { oneThreadMs: 20, budgetMs: 4 });
    expect(count(used, 1)).toBe(1);
    expect(count(run(choice, 1, 200, { oneThreadMs: 20, budgetMs: 4 }), 1)).toBeLessThanOrEqual(2);
  });

  it('learns each batch size on its own, and follows a change (another process taking a core)', () => {
    const choice = threadChoice({ budget: 2, policy: 'auto' }, 91 * MB);
    run(choice, 1, 100, { oneThreadMs: 6, budgetMs: 12 });
    run(choice, 8, 100, { oneThreadMs: 20, budgetMs: 12 });
    expect(choice.threadsFor(1)).toBe(1);
    expect(choice.threadsFor(7)).toBe(2);
    // Single tokens get faster on the budget (say, the other process left): a recheck sees it.
    const later = run(choice, 1, 400, { oneThreadMs: 12, budgetMs: 6 });
    expect(count(later.slice(-50), 1)).toBeLessThanOrEqual(1);
  });
});
