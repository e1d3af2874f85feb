import { describe, expect, it } from 'vitest';
import { TextMatcher } from './text-matcher.js';

function run(needles: string[], pieces: string[]) {
  const matcher = new TextMatcher(needles);
  let out = '';
  for (const piece of pieces) {
    const { emit, matched } = matcher.push(piece);
    out += emit;
    if (matched) return { out, matched };
  }
  return { out: out + matcher.flush(), matched: undefined };
}

describe('TextMatcher', () => {
  it('stops at a needle split across pieces and never emits any of it', () => {
    expect(run(['STOP'], ['hello S', 'T', 'OP and more'])).toEqual({
      out: 'hello ',
      matched: 'STOP',
    });
  });

  it('releases held-back text once it cannot become a needle', () => {
    const matcher = new TextMatcher(['</end>']);
    expect(matcher.push('a </e')).toEqual({ emit: 'a ' });
    expect(matcher.push('x')).toEqual({ emit: '</ex' });
  });

  it('picks the earliest of several needles and flushes the rest at the end', () => {
    expect(run(['cat', 'dog'], ['my dog and cat'])).toEqual({ out: 'my ', matched: 'dog' });
    expect(run(['zzz'], ['abc', 'zz'])).toEqual({ out: 'abczz', matched: undefined });
  });

  it('passes everything through with no needles', () => {
    expect(run([], ['a', 'b'])).toEqual({ out: 'ab', matched: undefined });
  });
});
