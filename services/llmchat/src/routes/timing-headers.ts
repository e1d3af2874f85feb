import type { FinishedGeneration } from '../generation/native-request.js';
import { tokensPerSecond } from '../protocols/openai/chat-response.js';

/** Response headers with the first choice's timings (non-streaming; streams carry them in the last chunk). */
export function timingHeaders(results: FinishedGeneration[]): Record<string, string> {
  const result = results[0];
  if (!result) return {};
  return {
    'x-queue-time-ms': result.timings.queueMs.toFixed(1),
    'x-time-to-first-token-ms': result.timings.timeToFirstTokenMs.toFixed(1),
    'x-tokens-per-second': String(
      tokensPerSecond(result.completionTokens, result.timings.decodeMs),
    ),
  };
}
