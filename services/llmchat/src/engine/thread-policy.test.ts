import { describe, expect, it } from 'vitest';
import { PARALLEL_WORK_BYTES, threadChoice } from './thread-policy.js';

const MB = 1_000_000;

describe('threadChoice', () => {
  it('auto: one thread for small work, the whole budget once tokens × weight bytes reach the threshold', () => {
    const small = threadChoice({ budget: 4, policy: 'auto' }, 30 * MB);
    expect(small(1)).toBe(1);
    expect(small(Math.ceil(PARALLEL_WORK_BYTES / (30 * MB)))).toBe(4);
    expect(small(512)).toBe(4);
    // A model of ~100 MB gains from the budget from its first token on.
    expect(threadChoice({ budget: 4, policy: 'auto' }, 91 * MB)(1)).toBe(4);
    const tiny = threadChoice({ budget: 4, policy: 'auto' }, 1.2 * MB);
    expect(tiny(8)).toBe(1);
    expect(tiny(512)).toBe(4);
  });

  it('never more than the budget, and fixed uses all of it for every batch', () => {
    expect(threadChoice({ budget: 1, policy: 'auto' }, 91 * MB)(512)).toBe(1);
    const fixed = threadChoice({ budget: 2, policy: 'fixed' }, 1.2 * MB);
    expect([fixed(1), fixed(8), fixed(512)]).toEqual([2, 2, 2]);
  });
});
