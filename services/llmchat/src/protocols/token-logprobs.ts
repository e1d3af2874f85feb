import { ApiError, errorCatalogue } from 'hrserve';
import type { TextLogprob } from '../engine/types.js';

/**
 * What `logprobs` + `top_logprobs` ask of the engine, as OpenAI's chat and Ollama take them:
 * `logprobs: true` with 0–20 alternatives; `top_logprobs` alone is a mistake, named.
 */
export function requestedLogprobs(
  logprobs: boolean | null | undefined,
  top: number | null | undefined,
): { top: number } | undefined {
  if (top !== undefined && top !== null && !logprobs) {
    throw new ApiError(errorCatalogue.invalidRequest, "'top_logprobs' needs 'logprobs': true.", {
      param: 'top_logprobs',
    });
  }
  return logprobs ? { top: top ?? 0 } : undefined;
}

function utf8Bytes(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}

/** A token's log-probability as OpenAI's `ChatCompletionTokenLogprob` and Ollama's `Logprob` (bytes: its UTF-8). */
export function toTokenLogprob(entry: TextLogprob) {
  return {
    token: entry.text,
    logprob: entry.logprob,
    bytes: utf8Bytes(entry.text),
    top_logprobs: entry.top.map((alternative) => ({
      token: alternative.text,
      logprob: alternative.logprob,
      bytes: utf8Bytes(alternative.text),
    })),
  };
}

/**
 * The legacy completion's `logprobs` object: parallel arrays, `top_logprobs` as one
 * token→logprob map per position (null when no alternatives were asked for), and
 * `text_offset` as each token's character offset in the choice's text, from `startOffset`
 * (a stream continues where its previous chunk ended).
 */
export function toLegacyLogprobs(
  entries: readonly TextLogprob[],
  options: { top: number; startOffset: number },
) {
  let offset = options.startOffset;
  const textOffset = entries.map((entry) => {
    const at = offset;
    offset += entry.text.length;
    return at;
  });
  return {
    tokens: entries.map((entry) => entry.text),
    token_logprobs: entries.map((entry) => entry.logprob),
    top_logprobs:
      options.top > 0
        ? entries.map((entry) =>
            Object.fromEntries(
              entry.top.map((alternative) => [alternative.text, alternative.logprob]),
            ),
          )
        : null,
    text_offset: textOffset,
  };
}
