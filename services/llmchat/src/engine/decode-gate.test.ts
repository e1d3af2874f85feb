import { describe, expect, it } from 'vitest';
import { DecodeGate } from './decode-gate.js';

describe('DecodeGate', () => {
  it('runs one decode at a time, in the order asked, a failure not blocking the next', async () => {
    const gate = new DecodeGate();
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const decode = (name: string, fail = false) =>
      gate.run(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`end ${name}`);
        running -= 1;
        if (fail) throw new Error(`${name} failed`);
        return name;
      });
    const results = await Promise.allSettled([decode('a'), decode('b', true), decode('c')]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(most).toBe(1);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
