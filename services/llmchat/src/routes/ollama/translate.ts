import { randomBytes } from 'node:crypto';
import { ApiError, errorCatalogue } from 'hrserve';
import type {
  ChatMessage,
  GenerationResult,
  SamplingOptions,
  ToolDefinition,
} from '../../engine/types.js';
import { parseKeepAlive } from '../../models/keep-alive.js';
import type { OllamaChatRequest, OllamaOptions } from './requests.js';

/** Ollama's defaults where the request leaves them out. */
const DEFAULT_TEMPERATURE = 0.8;
const DEFAULT_TOP_K = 40;
const DEFAULT_TOP_P = 0.9;

export function toSampling(options: OllamaOptions | undefined): SamplingOptions {
  return {
    temperature: options?.temperature ?? DEFAULT_TEMPERATURE,
    topK: options?.top_k ?? DEFAULT_TOP_K,
    topP: options?.top_p ?? DEFAULT_TOP_P,
    ...(options?.min_p !== undefined ? { minP: options.min_p } : {}),
    ...(options?.seed !== undefined ? { seed: options.seed } : {}),
    ...(options?.repeat_penalty !== undefined ? { repeatPenalty: options.repeat_penalty } : {}),
    ...(options?.presence_penalty ? { presencePenalty: options.presence_penalty } : {}),
    ...(options?.frequency_penalty ? { frequencyPenalty: options.frequency_penalty } : {}),
  };
}

/**
 * Tokens the answer may have: `num_predict` (-1 or absent: no limit, -2: fill
 * the context), and prompt + answer within `num_ctx` when it is smaller than
 * the loaded context (llmchat does not reload a model for a smaller window).
 */
export function maxTokensFor(
  options: OllamaOptions | undefined,
  promptTokens: number,
  contextSize: number,
): number {
  const window = Math.min(options?.num_ctx ?? contextSize, contextSize);
  const room = Math.max(0, window - promptTokens);
  const predict = options?.num_predict;
  return predict === undefined || predict < 0 ? room : Math.min(predict, room);
}

/** `keep_alive` in ms, or a 400 naming it. */
export function keepAliveOf(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseKeepAlive(value);
  if (ms === undefined) {
    throw new ApiError(
      errorCatalogue.invalidRequest,
      `keep_alive ${JSON.stringify(value)} is not a duration: use e.g. "5m", "30s", 0 or -1.`,
      { param: 'keep_alive' },
    );
  }
  return ms;
}

export function refuseImages(images: unknown[] | undefined, param: string): void {
  if (images && images.length > 0) {
    throw new ApiError(
      errorCatalogue.invalidRequest,
      `${param}: images are not supported; this server serves text-only models.`,
      { param },
    );
  }
}

export function toChatMessages(messages: OllamaChatRequest['messages']): ChatMessage[] {
  return messages.map((message, index) => {
    refuseImages(message.images, `messages.${index}.images`);
    return {
      role: message.role,
      content: message.content,
      ...(message.tool_calls?.length
        ? {
            toolCalls: message.tool_calls.map((call) => ({
              id: `call_${randomBytes(6).toString('hex')}`,
              name: call.function.name,
              arguments:
                typeof call.function.arguments === 'string'
                  ? call.function.arguments
                  : JSON.stringify(call.function.arguments),
            })),
          }
        : {}),
    };
  });
}

export function toToolDefinitions(tools: OllamaChatRequest['tools']): ToolDefinition[] {
  return (tools ?? []).map((tool) => ({
    name: tool.function.name,
    ...(tool.function.description ? { description: tool.function.description } : {}),
    parameters: tool.function.parameters ?? { type: 'object', properties: {} },
  }));
}

/** Ollama reports tool arguments as an object. */
export function toOllamaToolCalls(result: GenerationResult) {
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

const NS_PER_MS = 1_000_000;

/** The closing fields of every Ollama answer; durations in nanoseconds. */
export function doneFields(
  result: GenerationResult,
  timing: { startedAt: number; loadMs: number },
) {
  return {
    done: true,
    done_reason: result.finishReason === 'length' ? 'length' : 'stop',
    total_duration: Math.round((performance.now() - timing.startedAt) * NS_PER_MS),
    load_duration: Math.round(timing.loadMs * NS_PER_MS),
    prompt_eval_count: result.promptTokens,
    prompt_eval_duration: Math.round(result.timings.timeToFirstTokenMs * NS_PER_MS),
    eval_count: result.completionTokens,
    eval_duration: Math.round(result.timings.decodeMs * NS_PER_MS),
  };
}
