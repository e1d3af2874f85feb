import { describe, expect, it } from 'vitest';
import { memoryBudget, PROCESS_HEADROOM_MB } from './memory-budget.js';

const GIB = 2 ** 30;

describe('memoryBudget', () => {
  it('is the setting where no limit applies (none set: no budget)', () => {
    expect(memoryBudget(4096, {})).toMatchObject({ mb: 4096 });
    expect(memoryBudget(4096, {}).raise).toBe('LLMCHAT_MEMORY_BUDGET_MB=4096: raise the budget');
    expect(memoryBudget(undefined, {}).mb).toBeUndefined();
  });

  it('keeps a budget that fits under MemoryHigh with the headroom', () => {
    expect(memoryBudget(4096, { highBytes: 6 * GIB, maxBytes: 8 * GIB })).toEqual({
      mb: 4096,
      raise: 'LLMCHAT_MEMORY_BUDGET_MB=4096: raise the budget',
    });
  });

  it('lowers a budget over the limit, saying how to raise the limit with a drop-in', () => {
    const budget = memoryBudget(12_000, { highBytes: 6 * GIB, maxBytes: 8 * GIB });
    expect(budget.mb).toBe(6144 - PROCESS_HEADROOM_MB);
    expect(budget.warning).toContain(
      'LLMCHAT_MEMORY_BUDGET_MB=12000 does not fit the memory limit (MemoryHigh=6144M',
    );
    expect(budget.warning).toContain('systemctl --user edit llmchat');
  });

  it('takes MemoryMax when it is the lower (a drop-in lowered it, or a slice caps it)', () => {
    const budget = memoryBudget(undefined, { highBytes: 6 * GIB, maxBytes: 4 * GIB });
    expect(budget.mb).toBe(4096 - PROCESS_HEADROOM_MB);
    expect(budget.note).toContain('MemoryMax=4096M');
  });

  it('takes MemoryMax when there is no MemoryHigh, and derives a budget when none is set', () => {
    const budget = memoryBudget(undefined, { maxBytes: 2 * GIB });
    expect(budget.mb).toBe(2048 - PROCESS_HEADROOM_MB);
    expect(budget.note).toContain('MemoryMax=2048M');
    // A model refused over it is told of the limit, not of a setting nobody set.
    expect(budget.raise).toBe(
      "the memory limit's budget (MemoryMax=2048M less 512 MiB): raise MemoryHigh and MemoryMax with systemctl --user edit llmchat",
    );
    expect(budget.warning).toBeUndefined();
  });
});
