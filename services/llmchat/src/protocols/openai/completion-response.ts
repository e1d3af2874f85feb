import type { FinishedGeneration } from '../../generation/native-request.js';
import type { WireEncoder } from '../wire-encoder.js';
import { type OpenAIAnswerIdentity, streamError, toTimings, toUsage } from './chat-response.js';

/** `/v1/completions` (legacy): a `text_completion`, streamed as `text_completion` chunks. */
export function textCompletionEncoder(
  identity: OpenAIAnswerIdentity,
  options: { includeUsage: boolean },
): WireEncoder<unknown> {
  const { id, created, model } = identity;
  const chunk = (text: string, finishReason: string | null, extra?: Record<string, unknown>) => ({
    id,
    object: 'text_completion' as const,
    created,
    model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
    ...extra,
  });
  return {
    open: () => [],
    // Text completions have no tool calls.
    event: (event) => (event.type === 'text' ? [JSON.stringify(chunk(event.delta, null))] : []),
    close: (result: FinishedGeneration) => {
      const timings = { timings: toTimings(result) };
      const closing = options.includeUsage
        ? [
            chunk('', result.finishReason),
            {
              id,
              object: 'text_completion',
              created,
              model,
              choices: [],
              usage: toUsage(result),
              ...timings,
            },
          ]
        : [chunk('', result.finishReason, timings)];
      return closing.map((value) => JSON.stringify(value));
    },
    body: (result) => ({ ...chunk(result.text, result.finishReason), usage: toUsage(result) }),
    error: streamError,
  };
}
