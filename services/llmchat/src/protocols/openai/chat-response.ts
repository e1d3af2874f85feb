import { randomBytes } from 'node:crypto';
import { type ApiError, toOpenAIErrorBody } from 'hrserve';
import type {
  FinishReason,
  GenerationEvent,
  GenerationResult,
  TextLogprob,
  ToolCall,
} from '../../engine/types.js';
import type { FinishedGeneration } from '../../generation/native-request.js';
import { toTokenLogprob } from '../token-logprobs.js';
import { onlyResult, type WireEncoder } from '../wire-encoder.js';

/*
 * Pure builders of the response bodies and stream chunks, shaped as
 * https://platform.openai.com/docs/api-reference/chat/object and
 * https://platform.openai.com/docs/api-reference/chat/streaming describe.
 */

export function completionId(prefix: 'chatcmpl' | 'cmpl'): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function toUsage(result: GenerationResult): Usage {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: { cached_tokens: result.timings.promptCached },
  };
}

/**
 * The usage of several generations (the choices of one request), summed: every choice's
 * output, and each prompt once (n choices of one prompt count it once, as OpenAI does).
 */
export function totalUsage(results: readonly GenerationResult[]): Usage {
  const usages = results.map((result) =>
    toUsage(
      result.sharedPrompt
        ? { ...result, promptTokens: 0, timings: { ...result.timings, promptCached: 0 } }
        : result,
    ),
  );
  const sum = (of: (usage: Usage) => number) =>
    usages.reduce((total, usage) => total + of(usage), 0);
  return {
    prompt_tokens: sum((usage) => usage.prompt_tokens),
    completion_tokens: sum((usage) => usage.completion_tokens),
    total_tokens: sum((usage) => usage.total_tokens),
    prompt_tokens_details: {
      cached_tokens: sum((usage) => usage.prompt_tokens_details.cached_tokens),
    },
  };
}

/**
 * The llama.cpp server's `timings` extension (OpenAI clients ignore it): put
 * on the last stream chunk, where headers can no longer carry it.
 */
export function toTimings(result: FinishedGeneration) {
  const { timings, completionTokens } = result;
  return {
    queue_ms: round(timings.queueMs),
    prompt_n: timings.promptEvaluated,
    prompt_cached_n: timings.promptCached,
    time_to_first_token_ms: round(timings.timeToFirstTokenMs),
    predicted_n: completionTokens,
    predicted_ms: round(timings.decodeMs),
    predicted_per_second: tokensPerSecond(completionTokens, timings.decodeMs),
  };
}

export function tokensPerSecond(tokens: number, decodeMs: number): number {
  // The first token's time is in TTFT; the rate is over the tokens after it.
  return decodeMs > 0 && tokens > 1 ? round(((tokens - 1) * 1000) / decodeMs) : 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A choice's `logprobs`: null unless the request asked for them. */
function choiceLogprobs(entries: readonly TextLogprob[] | undefined) {
  return entries ? { content: entries.map(toTokenLogprob), refusal: null } : null;
}

function toWireToolCalls(calls: readonly ToolCall[]) {
  return calls.map((call) => ({
    id: call.id,
    type: 'function' as const,
    function: { name: call.name, arguments: call.arguments },
  }));
}

/** A `chat.completion`: one choice per generation (n), usage over all of them. */
export function toChatCompletion(
  id: string,
  created: number,
  model: string,
  results: readonly GenerationResult[],
) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: results.map((result, index) => {
      const hasCalls = result.toolCalls.length > 0;
      return {
        index,
        message: {
          role: 'assistant' as const,
          content: hasCalls && result.text.length === 0 ? null : result.text,
          refusal: null,
          ...(hasCalls ? { tool_calls: toWireToolCalls(result.toolCalls) } : {}),
        },
        logprobs: choiceLogprobs(result.logprobs),
        finish_reason: result.finishReason,
      };
    }),
    usage: totalUsage(results),
  };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string;
  tool_calls?: Array<{
    index: number;
    id?: string;
    type?: 'function';
    function: { name?: string; arguments: string };
  }>;
}

/** Writes `chat.completion.chunk`s for one completion; each chunk is for one choice (`index`). */
export class ChatChunkBuilder {
  /** Per choice, a content chunk's JSON around its text. */
  private readonly contentTemplates = new Map<number, { prefix: string; suffix: string }>();

  constructor(
    private readonly id: string,
    private readonly created: number,
    private readonly model: string,
    /** With `stream_options.include_usage`, every chunk but the last carries `"usage": null`, as OpenAI sends. */
    private readonly usageNull = false,
  ) {}

  /** The JSON of a content delta chunk, identical to `JSON.stringify(this.delta({ content }, index))`. */
  contentJson(content: string, index = 0): string {
    let template = this.contentTemplates.get(index);
    if (!template) {
      // Content deltas are the per-token hot path: everything but the text is serialized once.
      const json = JSON.stringify(this.delta({ content: '\u0000' }, index));
      const prefix = json.slice(0, json.indexOf('"\\u0000"'));
      template = { prefix, suffix: json.slice(prefix.length + '"\\u0000"'.length) };
      this.contentTemplates.set(index, template);
    }
    return template.prefix + JSON.stringify(content) + template.suffix;
  }

  delta(delta: ChunkDelta, index = 0) {
    return this.chunk([{ index, delta, logprobs: null, finish_reason: null }]);
  }

  /** A chunk carrying log-probabilities of tokens generated, with no text of its own. */
  logprobs(entries: readonly TextLogprob[], index = 0) {
    return this.chunk([
      { index, delta: {}, logprobs: choiceLogprobs(entries), finish_reason: null },
    ]);
  }

  finish(reason: FinishReason, extra?: Record<string, unknown>, index = 0) {
    return {
      ...this.chunk([{ index, delta: {}, logprobs: null, finish_reason: reason }]),
      ...extra,
    };
  }

  /** `stream_options.include_usage`: a last chunk with usage and no choices. */
  usage(usage: Usage, extra?: Record<string, unknown>) {
    return { ...this.chunk([]), usage, ...extra };
  }

  private chunk(choices: unknown[]) {
    return {
      id: this.id,
      object: 'chat.completion.chunk' as const,
      created: this.created,
      model: this.model,
      choices,
      ...(this.usageNull ? { usage: null } : {}),
    };
  }
}

/** What every OpenAI answer of one request carries: its id, creation time and the model as asked. */
export interface OpenAIAnswerIdentity {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

/** The error event of a stream that fails after its first chunk. */
export function streamError(error: ApiError): string {
  return JSON.stringify(toOpenAIErrorBody(error));
}

/** `/v1/chat/completions`: a `chat.completion`, or `chat.completion.chunk`s. */
export function chatCompletionEncoder(
  identity: OpenAIAnswerIdentity,
  options: { includeUsage: boolean },
): WireEncoder<ReturnType<typeof toChatCompletion>> {
  const chunks = new ChatChunkBuilder(
    identity.id,
    identity.created,
    identity.model,
    options.includeUsage,
  );
  return {
    open: (choices) =>
      Array.from({ length: Math.max(1, choices) }, (_, index) =>
        JSON.stringify(chunks.delta({ role: 'assistant', content: '' }, index)),
      ),
    event: (event: GenerationEvent, choice = 0) => {
      switch (event.type) {
        case 'text':
          return [chunks.contentJson(event.delta, choice)];
        case 'tool_call_start':
          return [
            JSON.stringify(
              chunks.delta(
                {
                  tool_calls: [
                    {
                      index: event.index,
                      id: event.id,
                      type: 'function',
                      function: { name: event.name, arguments: '' },
                    },
                  ],
                },
                choice,
              ),
            ),
          ];
        case 'tool_call_arguments':
          return [
            JSON.stringify(
              chunks.delta(
                { tool_calls: [{ index: event.index, function: { arguments: event.fragment } }] },
                choice,
              ),
            ),
          ];
        case 'logprobs':
          return [JSON.stringify(chunks.logprobs(event.entries, choice))];
        default:
          return [];
      }
    },
    close: (results) => {
      const timings = { timings: toTimings(onlyResult(results)) };
      const last = results.length - 1;
      // Each choice's finish; the llama.cpp timings (the first choice's) on the last chunk.
      const finishes = results.map((result, index) =>
        chunks.finish(
          result.finishReason,
          !options.includeUsage && index === last ? timings : undefined,
          index,
        ),
      );
      return (
        options.includeUsage ? [...finishes, chunks.usage(totalUsage(results), timings)] : finishes
      ).map((chunk) => JSON.stringify(chunk));
    },
    body: (results) => toChatCompletion(identity.id, identity.created, identity.model, results),
    error: streamError,
  };
}
