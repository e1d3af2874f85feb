import type { GgufMetadata } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { attentionHeadSize, flashAttentionFor } from './flash-attention.js';

const llama = (block: Record<string, unknown>) =>
  ({ general: { architecture: 'llama' }, llama: block }) as unknown as GgufMetadata;

const stories = llama({ embedding_length: 64, attention: { head_count: 8 } });
const synth = llama({ embedding_length: 512, attention: { head_count: 8 } });

describe('flash attention', () => {
  it('reads the head size from key_length, or embedding length / heads', () => {
    expect(attentionHeadSize(stories)).toBe(8);
    expect(attentionHeadSize(synth)).toBe(64);
    expect(
      attentionHeadSize(
        llama({ embedding_length: 4096, attention: { head_count: 32, key_length: 128 } }),
      ),
    ).toBe(128);
    expect(attentionHeadSize({ general: {} } as unknown as GgufMetadata)).toBeUndefined();
  });

  it('auto on CPU: off for tiny heads, on from 64; GPU left to node-llama-cpp', () => {
    expect(flashAttentionFor('auto', false, stories)).toBe(false);
    expect(flashAttentionFor('auto', false, synth)).toBe(true);
    expect(flashAttentionFor('auto', true, stories)).toBe('auto');
  });

  it('on and off are obeyed', () => {
    expect(flashAttentionFor('on', false, stories)).toBe(true);
    expect(flashAttentionFor('off', false, synth)).toBe(false);
  });
});
