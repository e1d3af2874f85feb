import type { GenerationResult } from '../engine/types.js';
import { tokensPerSecond } from '../openai/chat-response.js';

/** Response headers with per-request timings (non-streaming; streams carry them in the last chunk). */
export function timingHeaders(result: GenerationResult, queueMs: number): Record<string, string> {
  return {
    'x-queue-time-ms': queueMs.toFixed(1),
    'x-time-to-first-token-ms': result.timings.timeToFirstTokenMs.toFixed(1),
    'x-tokens-per-second': String(
      tokensPerSecond(result.completionTokens, result.timings.decodeMs),
    ),
  };
}
