import type { Token } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { realignPrompt, type TokenText } from './prompt-realign.js';
import { type CachedSequence, SequencePool } from './sequence-pool.js';

/** A toy vocabulary: each token is a piece of text; 100 and up are control tokens. */
const VOCAB: Record<number, string> = {
  1: 'Hel',
  2: 'lo',
  3: 'Hello',
  4: ' world',
  5: ' wor',
  6: 'ld',
  7: '!',
  8: 'Hi',
  9: ' there',
  10: '<|end|>', // the control token's text, spelled with ordinary tokens
  100: '<|end|>',
  101: '<|user|>',
  102: '<|assistant|>',
};
const text: TokenText = {
  detokenize: (tokens) => tokens.map((token) => VOCAB[token] ?? '').join(''),
  isSpecial: (token) => token >= 100,
};
const tokens = (...ids: number[]) => ids as Token[];
const spell = (ids: readonly Token[]) => text.detokenize(ids, []);

describe('realignPrompt', () => {
  it("takes the cache's spelling of the earlier answer, so only the new turn is left", () => {
    // The model answered "Hel"+"lo"+" wor"+"ld"; the next prompt tokenizes it as "Hello"+" world".
    const cached = tokens(101, 8, 102, 1, 2, 5, 6, 100);
    const prompt = tokens(101, 8, 102, 3, 4, 100, 101, 9, 102);
    const realigned = realignPrompt(cached, prompt, text, prompt.length + 8);
    expect(realigned.prompt).toEqual(tokens(101, 8, 102, 1, 2, 5, 6, 100, 101, 9, 102));
    expect(realigned.shared).toBe(8);
    expect(spell(realigned.prompt)).toBe(spell(prompt));
  });

  it('keeps the prompt when the realigned one would not fit in maxLength', () => {
    const cached = tokens(101, 8, 102, 1, 2, 5, 6, 100);
    const prompt = tokens(101, 8, 102, 3, 4, 100, 101, 9, 102);
    const realigned = realignPrompt(cached, prompt, text, prompt.length);
    expect(realigned.prompt).toEqual(prompt);
    expect(realigned.shared).toBe(3);
  });

  it('never lets ordinary text stand in for a control token', () => {
    // The cache ended its answer with the text "<|end|>", the prompt with the control token.
    const cached = tokens(102, 3, 10, 101);
    const prompt = tokens(102, 3, 100, 101);
    expect(realignPrompt(cached, prompt, text, 10)).toEqual({ prompt, shared: 2 });
  });

  it('stops at the last point where both spell the same text', () => {
    // Cache: "Hello world!"; prompt: "Hel" "lo" " there": they agree up to "Hello".
    const cached = tokens(102, 3, 4, 7);
    const prompt = tokens(102, 1, 2, 9);
    const realigned = realignPrompt(cached, prompt, text, 10);
    expect(realigned.prompt).toEqual(tokens(102, 3, 9));
    expect(realigned.shared).toBe(2);
  });

  it('changes nothing when the prompt extends the cache token for token', () => {
    const cached = tokens(101, 8, 102, 3);
    const prompt = tokens(101, 8, 102, 3, 4);
    expect(realignPrompt(cached, prompt, text, 10)).toEqual({ prompt, shared: 4 });
  });
});

class FakeSequence implements CachedSequence {
  tokens: Token[] = [];
  truncate(length: number): void {
    this.tokens = this.tokens.slice(0, length);
  }
}

describe('SequencePool with a tokenizer', () => {
  it('reuses the earlier answer spelled with other tokens, and evaluates only the rest', () => {
    const sequence = new FakeSequence();
    sequence.tokens = tokens(101, 8, 102, 1, 2, 5, 6, 100);
    const pool = new SequencePool([sequence], text);
    const prompt = tokens(101, 8, 102, 3, 4, 100, 101, 9, 102);
    const turn = pool.take(prompt, 20);
    expect(turn.reusedTokens).toBe(8);
    expect(turn.input).toEqual(tokens(101, 9, 102));
    expect(sequence.tokens).toHaveLength(8);
  });
});
