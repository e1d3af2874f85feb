import type { FinishedGeneration } from '../../generation/native-request.js';
import type { WireEncoder } from '../wire-encoder.js';
import { type OpenAIAnswerIdentity, streamError, toTimings, totalUsage } from './chat-response.js';

/**
 * `/v1/completions` (legacy): a `text_completion` with one choice per prompt,
 * streamed as `text_completion` chunks each naming its choice's index.
 */
export function textCompletionEncoder(
  identity: OpenAIAnswerIdentity,
  options: { includeUsage: boolean },
): WireEncoder<unknown> {
  const { id, created, model } = identity;
  const choice = (index: number, text: string, finishReason: string | null) => ({
    index,
    text,
    logprobs: null,
    finish_reason: finishReason,
  });
  const chunk = (choices: unknown[], extra?: Record<string, unknown>) => ({
    id,
    object: 'text_completion' as const,
    created,
    model,
    choices,
    // With include_usage every chunk but the last carries "usage": null, as OpenAI sends.
    ...(options.includeUsage ? { usage: null } : {}),
    ...extra,
  });
  /** The llama.cpp server's `timings` extension, for the first choice. */
  const timingsOf = (results: FinishedGeneration[]) =>
    results[0] ? { timings: toTimings(results[0]) } : {};
  return {
    open: () => [],
    // Text completions have no tool calls.
    event: (event, index) =>
      event.type === 'text' ? [JSON.stringify(chunk([choice(index, event.delta, null)]))] : [],
    close: (results) => {
      const finishes = results.map((result, index) =>
        chunk([choice(index, '', result.finishReason)]),
      );
      const closing = options.includeUsage
        ? [...finishes, { ...chunk([]), usage: totalUsage(results), ...timingsOf(results) }]
        : finishes.map((finish, index) =>
            index === finishes.length - 1 ? { ...finish, ...timingsOf(results) } : finish,
          );
      return closing.map((value) => JSON.stringify(value));
    },
    body: (results) => ({
      ...chunk(results.map((result, index) => choice(index, result.text, result.finishReason))),
      usage: totalUsage(results),
    }),
    error: streamError,
  };
}
