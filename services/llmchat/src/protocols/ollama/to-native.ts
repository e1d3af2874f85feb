import { ApiError, errorCatalogue } from 'hrserve';
import type {
  ChatMessage,
  Constraint,
  SamplingOptions,
  ToolCalling,
  ToolDefinition,
} from '../../engine/types.js';
import { llmchatErrors } from '../../errors.js';
import type { NativeChatRequest } from '../../generation/native-request.js';
import { parseKeepAlive } from '../../models/keep-alive.js';
import { requestedLogprobs } from '../token-logprobs.js';
import type { OllamaChatRequest, OllamaGenerateRequest, OllamaOptions } from './requests.js';

/*
 * Ollama requests as native ones: pure functions, tested with golden fixtures
 * (__fixtures__/). https://github.com/ollama/ollama/blob/main/docs/api.md
 */

/** /api/chat with messages. */
export function ollamaChatToNative(body: OllamaChatRequest): NativeChatRequest {
  const tools = toToolDefinitions(body.tools);
  // With both, as Ollama does: the answer is a tool call, or text in the format.
  const constraint = constraintOf(body.format);
  const calling: ToolCalling | undefined =
    tools.length > 0
      ? {
          choice: 'auto',
          parallel: true,
          tools: tools.map((tool, index) => ({
            name: tool.name,
            parameters: tool.parameters,
            origin: `tools.${index}.function.parameters`,
          })),
        }
      : undefined;
  return {
    ...common(body, constraint),
    prompt: { kind: 'chat', messages: toChatMessages(body.messages), tools },
    ...(calling ? { tools: calling } : {}),
  };
}

/**
 * /api/generate with a prompt: templated as a user turn (after `system`), or as is with
 * `raw`; after the token ids of `context` (an earlier answer's) when sent.
 */
export function ollamaGenerateToNative(body: OllamaGenerateRequest): NativeChatRequest {
  refuseImages(body.images, 'images');
  if (body.template) {
    throw unsupported(
      'template',
      "'template' (a custom prompt template) is not supported; send raw: true with the prompt already formatted.",
    );
  }
  if (body.suffix) {
    throw unsupported('suffix', "'suffix' (fill in the middle) is not supported; omit it.");
  }
  if (body.raw && body.system) {
    throw unsupported(
      'system',
      "'system' is not applied with raw: true (the prompt is sent as is); put it in the prompt.",
    );
  }
  const messages: ChatMessage[] = [
    ...(body.system ? [{ role: 'system' as const, content: body.system }] : []),
    { role: 'user' as const, content: body.prompt },
  ];
  return {
    ...common(body, constraintOf(body.format)),
    prompt: body.raw ? { kind: 'raw', text: body.prompt } : { kind: 'chat', messages, tools: [] },
    ...(body.context && body.context.length > 0 ? { context: body.context } : {}),
  };
}

function unsupported(param: string, message: string): ApiError {
  return new ApiError(llmchatErrors.unsupportedParameter, message, { param });
}

function common(
  body: OllamaChatRequest | OllamaGenerateRequest,
  constraint: Constraint | undefined,
): Omit<NativeChatRequest, 'prompt'> {
  const { options } = body;
  const keepAliveMs = keepAliveOf(body.keep_alive);
  const predict = options?.num_predict;
  const logprobs = requestedLogprobs(body.logprobs, body.top_logprobs);
  return {
    model: body.model,
    // -1 (or absent): no limit; -2: fill the context.
    ...(predict !== undefined && predict >= 0 ? { maxTokens: predict } : {}),
    ...(options?.num_ctx !== undefined ? { contextWindow: options.num_ctx } : {}),
    sampling: toSampling(options),
    stop: options?.stop ?? [],
    ...(constraint ? { constraint } : {}),
    ...(keepAliveMs !== undefined ? { keepAliveMs } : {}),
    ...(logprobs ? { logprobs } : {}),
  };
}

function constraintOf(format: OllamaChatRequest['format']): Constraint | undefined {
  if (format === undefined || format === '') return undefined;
  if (format === 'json') return { kind: 'json' };
  return { kind: 'json_schema', schema: format, origin: 'format' };
}

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
            // Ollama's calls carry no id; the prompt never shows one, so a stable one will do.
            toolCalls: message.tool_calls.map((call, callIndex) => ({
              id: `call_${index}_${callIndex}`,
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
