import { describe, expect, it } from 'vitest';
import { BATCH_WORK_HEADER, batchWorkHeaders, isBatchWorkToken } from './work-priority.js';

describe('batch work token', () => {
  it('recognises only this process token', () => {
    expect(isBatchWorkToken(batchWorkHeaders()[BATCH_WORK_HEADER])).toBe(true);
    expect(isBatchWorkToken('00'.repeat(32))).toBe(false);
    expect(isBatchWorkToken('batch')).toBe(false);
    expect(isBatchWorkToken('zz'.repeat(32))).toBe(false);
    expect(isBatchWorkToken(undefined)).toBe(false);
  });
});
