import type { GgufMetadata } from 'node-llama-cpp';
import type { EngineOptions } from './options.js';

/**
 * Below this attention head size llama.cpp's CPU flash-attention kernel loses.
 * Measured on this project's 2-core machine, in-process, 1 thread:
 * - stories260K (head size 8): off is faster — one sequence ≈1,200–1,600 vs
 *   ≈860–1,000 tokens/s, 8 sequences ≈2,200–2,700 vs ≈1,500–1,650, and a short
 *   tail after a 788-token cached prefix ≈4 ms vs ≈30 ms.
 * - synth-30M (head size 64, the smallest real models use): on is faster —
 *   8 sequences ≈460 vs ≈300 tokens/s, one sequence about the same.
 */
const MIN_CPU_HEAD_SIZE = 64;

/** Size of one attention head: `attention.key_length`, else embedding length / head count. */
export function attentionHeadSize(metadata: GgufMetadata): number | undefined {
  const architecture = metadata.general?.architecture;
  const block = architecture
    ? ((metadata as unknown as Record<string, unknown>)[architecture] as
        | {
            embedding_length?: number;
            attention?: { head_count?: number | number[]; key_length?: number };
          }
        | undefined)
    : undefined;
  const keyLength = block?.attention?.key_length;
  if (typeof keyLength === 'number') return keyLength;
  const heads = block?.attention?.head_count;
  const headCount = Array.isArray(heads) ? Math.max(...heads) : heads;
  if (!block?.embedding_length || !headCount) return undefined;
  return block.embedding_length / headCount;
}

/**
 * `LLMCHAT_FLASH_ATTENTION`: on/off as set; `auto` leaves GPUs to node-llama-cpp
 * and, on CPU, turns it on for head sizes of 64 and up (every real model) and
 * off for the tiny ones where the kernel's overhead dominates.
 */
export function flashAttentionFor(
  setting: EngineOptions['flashAttention'],
  onGpu: boolean,
  metadata: GgufMetadata,
): boolean | 'auto' {
  switch (setting) {
    case 'on':
      return true;
    case 'off':
      return false;
    case 'auto': {
      if (onGpu) return 'auto';
      const headSize = attentionHeadSize(metadata);
      return headSize === undefined ? false : headSize >= MIN_CPU_HEAD_SIZE;
    }
    default:
      return setting satisfies never;
  }
}
