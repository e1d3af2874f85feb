import type { FinishedGeneration } from '../../generation/native-request.js';
import { toLegacyLogprobs } from '../token-logprobs.js';
import type { WireEncoder } from '../wire-encoder.js';
import { type OpenAIAnswerIdentity, streamError, toTimings, totalUsage } from './chat-response.js';

/**
 * `/v1/completions` (legacy): a `text_completion` with one choice per prompt,
 * streamed as `text_completion` chunks each naming its choice's index.
 */
export function textCompletionEncoder(
  identity: OpenAIAnswerIdentity,
  options: {
    includeUsage: boolean /** The request's `logprobs`: alternatives per token. */;
    logprobs?: number;
  },
): WireEncoder<unknown> {
  const { id, created, model } = identity;
  const choice = (
    index: number,
    text: string,
    finishReason: string | null,
    logprobs: ReturnType<typeof toLegacyLogprobs> | null = null,
  ) => ({ index, text, logprobs, finish_reason: finishReason });
  /** Each streamed choice's token texts so far, in characters: where its next text_offset starts. */
  const tokenTextLength = new Map<number, number>();
  const top = options.logprobs ?? 0;
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
    event: (event, index) => {
      if (event.type === 'text') return [JSON.stringify(chunk([choice(index, event.delta, null)]))];
      if (event.type !== 'logprobs') return [];
      // Offsets count the tokens' own texts (the text events may lag behind, held for stop strings).
      const startOffset = tokenTextLength.get(index) ?? 0;
      const logprobs = toLegacyLogprobs(event.entries, { top, startOffset });
      const ends = startOffset + event.entries.reduce((sum, entry) => sum + entry.text.length, 0);
      tokenTextLength.set(index, ends);
      return [JSON.stringify(chunk([choice(index, '', null, logprobs)]))];
    },
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
      ...chunk(
        results.map((result, index) =>
          choice(
            index,
            result.text,
            result.finishReason,
            result.logprobs ? toLegacyLogprobs(result.logprobs, { top, startOffset: 0 }) : null,
          ),
        ),
      ),
      usage: totalUsage(results),
    }),
    error: streamError,
  };
}
