import type { Token } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { withTurnEnds } from './prepare-scoring.js';

const tokens = (...ids: number[]) => ids as Token[];
const END = 2 as Token;

describe('answers as the events they score', () => {
  it('adds the turn end to every answer when one begins another', () => {
    expect(withTurnEnds([tokens(5), tokens(5, 9)], END)).toEqual([tokens(5, 2), tokens(5, 9, 2)]);
  });

  it('leaves answers that are already disjoint as they are (one-token answers cost no decode)', () => {
    expect(withTurnEnds([tokens(5), tokens(6), tokens(7, 8)], END)).toEqual([
      tokens(5),
      tokens(6),
      tokens(7, 8),
    ]);
    expect(withTurnEnds([tokens(5, 6), tokens(5, 7)], END)).toEqual([tokens(5, 6), tokens(5, 7)]);
  });

  it('without an end token, leaves them too', () => {
    expect(withTurnEnds([tokens(5), tokens(5, 9)], undefined)).toEqual([tokens(5), tokens(5, 9)]);
  });
});
