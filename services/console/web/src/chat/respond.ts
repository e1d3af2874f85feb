import { problemOf, servicePath } from '../api';
import { sseEvents } from '../sse';

/** The usual sampling parameters; unset ones are the server's defaults. */
export interface Parameters {
  system: string;
  temperature: number | undefined;
  topP: number | undefined;
  maxOutputTokens: number | undefined;
  seed: number | undefined;
}

/** How an answer went: the page's figures under it. */
export interface AnswerStats {
  /** From sending to the first text, as this browser saw it. */
  ttftMs: number | undefined;
  outputTokens: number | undefined;
  /** Output tokens per second, from the response's first byte to its last (generationSeconds). */
  tokensPerSecond: number | undefined;
  /** Cut by the token limit. */
  incomplete: boolean;
  /** Stopped by the user; the text so far was kept. */
  stopped?: boolean;
  traceId: string | undefined;
}

/** A failed answer whose response says why (`response.failed`, an `error` event). */
export class AnswerError extends Error {}

/**
 * One turn in a stored conversation: POST /v1/responses with `conversation` and
 * `stream: true`. The service appends the question and the answer to the conversation when
 * the answer completes; a stopped or failed one leaves it as it was. `onText` gets each
 * piece of text as it arrives.
 */
export async function respond(
  turn: {
    service: string;
    model: string;
    conversation: string;
    input: string;
    parameters: Parameters;
    signal: AbortSignal;
  },
  onText: (delta: string) => void,
): Promise<AnswerStats> {
  const { parameters } = turn;
  // Room for this answer's network timing (the buffer holds 250 entries).
  performance.clearResourceTimings();
  const started = performance.now();
  const response = await fetch(servicePath(turn.service, '/v1/responses'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      model: turn.model,
      conversation: turn.conversation,
      input: turn.input,
      stream: true,
      // A conversation longer than the model's context drops its oldest turns.
      truncation: 'auto',
      ...(parameters.system ? { instructions: parameters.system } : {}),
      ...(parameters.temperature !== undefined ? { temperature: parameters.temperature } : {}),
      ...(parameters.topP !== undefined ? { top_p: parameters.topP } : {}),
      ...(parameters.maxOutputTokens !== undefined
        ? { max_output_tokens: parameters.maxOutputTokens }
        : {}),
      // llmchat's extension: OpenAI's Responses API has no seed.
      ...(parameters.seed !== undefined ? { seed: parameters.seed } : {}),
    }),
    signal: turn.signal,
  });
  if (!response.ok || !response.body) throw await problemOf(response);
  const traceId = response.headers.get('x-trace-id') ?? undefined;
  let firstText: number | undefined;
  let finished: { incomplete: boolean; outputTokens: number | undefined } | undefined;
  try {
    await readEvents();
  } catch (error) {
    // Stopped after the answer was complete (and stored): it is an answer, not a stop.
    if (!finished) throw error;
  }
  async function readEvents(): Promise<void> {
    if (!response.body) return;
    for await (const event of sseEvents(response.body)) {
      switch (event.type) {
        case 'response.output_text.delta': {
          firstText ??= performance.now();
          onText(String(event.delta ?? ''));
          break;
        }
        case 'response.completed':
        case 'response.incomplete': {
          const usage = (event.response as { usage?: { output_tokens?: number } } | undefined)
            ?.usage;
          finished = {
            incomplete: event.type === 'response.incomplete',
            outputTokens: usage?.output_tokens,
          };
          break;
        }
        case 'response.failed': {
          const error = (event.response as { error?: { message?: string } } | undefined)?.error;
          throw new AnswerError(error?.message ?? 'The answer failed.');
        }
        case 'error':
          throw new AnswerError(String(event.message ?? 'The answer failed.'));
      }
    }
  }
  if (!finished) {
    throw new AnswerError('The answer ended before it was complete (the connection closed).');
  }
  const { outputTokens } = finished;
  const seconds = await generationSeconds(started, firstText);
  return {
    ttftMs: firstText === undefined ? undefined : firstText - started,
    outputTokens,
    tokensPerSecond:
      outputTokens !== undefined && outputTokens > 1 && seconds > 0
        ? outputTokens / seconds
        : undefined,
    incomplete: finished.incomplete,
    traceId,
  };
}

/**
 * How long the answer took to generate, from the browser's network timing: from the
 * response's first byte (llmchat answers once the request leaves its queue) to its last.
 * These are the network's clocks, so a page busy when tokens arrive (they are then handled
 * in one go) does not make the answer look faster than it was. Without the entry, the time
 * from the first text on the page to the end.
 */
async function generationSeconds(started: number, firstText: number | undefined) {
  const ended = performance.now();
  // The entry is added once the body has ended: after this task.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const entry = performance
    .getEntriesByType('resource')
    .filter(
      (candidate): candidate is PerformanceResourceTiming =>
        candidate.name.endsWith('/v1/responses') && candidate.startTime >= started - 1,
    )
    .at(-1);
  if (entry && entry.responseEnd > entry.responseStart) {
    return (entry.responseEnd - entry.responseStart) / 1000;
  }
  return firstText === undefined ? 0 : (ended - firstText) / 1000;
}
