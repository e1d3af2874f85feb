import type { StreamTiming } from './sse-client.js';

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Tokens per second after the first token (whose time is the TTFT). */
export function decodeRate(timing: StreamTiming): number {
  return ((timing.completionTokens - 1) * 1000) / timing.decodeMs;
}
