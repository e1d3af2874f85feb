import type { TextLogprob } from '../../engine/types.js';
import type { FinishedGeneration } from '../../generation/native-request.js';
import { toTokenLogprob } from '../token-logprobs.js';

import { onlyResult, type WireEncoder } from '../wire-encoder.js';

const NS_PER_MS = 1_000_000;

/** Ollama's `logprobs` field (the same shape as OpenAI's chat entries), present only when asked for. */
function logprobsOf(entries: readonly TextLogprob[] | undefined) {
  return entries ? { logprobs: entries.map(toTokenLogprob) } : {};
}

/** Ollama reports tool arguments as an object. */
export function toOllamaToolCalls(result: FinishedGeneration) {
  return result.toolCalls.map((call) => {
    let args: unknown;
    try {
      args = JSON.parse(call.arguments);
    } catch {
      args = {};
    }
    return { function: { name: call.name, arguments: args } };
  });
}

/** The closing fields of every Ollama answer; durations in nanoseconds. */
export function doneFields(result: FinishedGeneration) {
  const { timings } = result;
  return {
    done: true,
    done_reason: result.finishReason === 'length' ? 'length' : 'stop',
    total_duration: Math.round(timings.totalMs * NS_PER_MS),
    load_duration: Math.round(timings.loadMs * NS_PER_MS),
    // As Ollama counts (since its PR #17943): the whole prompt, and beside it the part read
    // from the cache; the duration is that of evaluating the rest.
    prompt_eval_count: result.promptTokens,
    prompt_eval_cached_count: timings.promptCached,
    prompt_eval_duration: Math.round(timings.timeToFirstTokenMs * NS_PER_MS),
    eval_count: result.completionTokens,
    eval_duration: Math.round(timings.decodeMs * NS_PER_MS),
  };
}

/**
 * /api/chat and /api/generate answers: NDJSON lines (`message` or `response`
 * pieces, then a `done` line with counts and nanosecond durations), or the
 * same as one object. Tool calls come whole on the last line, as Ollama sends
 * them. `now` stamps each line (Ollama puts the time on every line).
 */
export function ollamaEncoder(
  operation: 'chat' | 'generate',
  model: string,
  now: () => Date = () => new Date(),
): WireEncoder<unknown> {
  const stamp = () => ({ model, created_at: now().toISOString() });
  const final = (result: FinishedGeneration, text: string) => {
    if (operation === 'generate') {
      // The conversation so far as token ids: sent back as `context`, the next prompt continues it.
      const context = [...result.promptTokenIds, ...result.outputTokens];
      return {
        ...stamp(),
        response: text,
        ...doneFields(result),
        context,
        ...logprobsOf(result.logprobs),
      };
    }
    const calls = toOllamaToolCalls(result);
    return {
      ...stamp(),
      message: { role: 'assistant', content: text, ...(calls.length ? { tool_calls: calls } : {}) },
      ...doneFields(result),
      ...logprobsOf(result.logprobs),
    };
  };
  return {
    open: () => [],
    event: (event) => {
      if (event.type !== 'text' && event.type !== 'logprobs') return [];
      // A token's log-probability comes on a line of its own, with no text (its text follows).
      const delta = event.type === 'text' ? event.delta : '';
      const extra = event.type === 'logprobs' ? logprobsOf(event.entries) : {};
      const piece =
        operation === 'chat'
          ? { ...stamp(), message: { role: 'assistant', content: delta }, done: false, ...extra }
          : { ...stamp(), response: delta, done: false, ...extra };
      return [JSON.stringify(piece)];
    },
    // The streamed lines carried every token's log-probability already.
    close: (results) => [
      JSON.stringify({ ...final(onlyResult(results), ''), logprobs: undefined }),
    ],
    body: (results) => final(onlyResult(results), onlyResult(results).text),
    error: (error) => JSON.stringify({ error: error.message }),
  };
}
