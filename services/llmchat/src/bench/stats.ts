import type { StreamTiming } from './sse-client.js';

export { median } from '@hrserve/test-support/stats';

/** Tokens per second after the first token (whose time is the TTFT). */
export function decodeRate(timing: StreamTiming): number {
  return ((timing.completionTokens - 1) * 1000) / timing.decodeMs;
}
