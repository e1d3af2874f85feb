import { ApiError, errorCatalogue } from 'hrserve';
import type {
  CallableTool,
  ChatMessage,
  Constraint,
  SamplingOptions,
  ToolDefinition,
} from '../../engine/types.js';
import { llmchatErrors } from '../../errors.js';
import type { NativeChatRequest } from '../../generation/native-request.js';
import { requestedLogprobs } from '../token-logprobs.js';
import type { ChatCompletionRequest, CompletionRequest, MessageInput } from './chat-request.js';

/**
 * OpenAI requests as native ones: pure functions, tested with golden fixtures
 * (__fixtures__/). Anything the engine cannot honour is refused here by name.
 */
export function chatCompletionToNative(body: ChatCompletionRequest): NativeChatRequest {
  rejectUnsupported(body);
  const tools = planTools(body);
  const constraint = constraintOf(body.response_format);
  if (constraint && tools.choice !== 'none') {
    throw new ApiError(
      errorCatalogue.invalidRequest,
      "'response_format' json_object/json_schema cannot be combined with tools; send one or the other.",
      { param: 'response_format' },
    );
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const logprobs = requestedLogprobs(body.logprobs, body.top_logprobs);
  return {
    model: body.model,
    prompt: { kind: 'chat', messages: toChatMessages(body.messages), tools: tools.described },
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    sampling: toSampling(body),
    stop: stopStrings(body.stop),
    ...(constraint ? { constraint } : {}),
    ...(tools.choice !== 'none'
      ? { tools: { choice: tools.choice, tools: tools.callable, parallel: tools.parallel } }
      : {}),
    ...(logprobs ? { logprobs } : {}),
    ...(body.n ? { choices: body.n } : {}),
  };
}

/**
 * The legacy text completion: each prompt as is (text after the BOS token, or
 * token ids exactly), 16 tokens unless told; one request per prompt, whose
 * answers are the choices in order.
 */
export function completionToNative(body: CompletionRequest): NativeChatRequest[] {
  rejectUnsupported(body);
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) {
    throw unsupported(
      'top_logprobs',
      "/v1/completions takes the number of alternatives as 'logprobs' (0–20); omit 'top_logprobs'.",
    );
  }
  const logprobs = body.logprobs ?? undefined;
  const { prompt } = body;
  const prompts: NativeChatRequest['prompt'][] =
    typeof prompt === 'string'
      ? [{ kind: 'raw', text: prompt }]
      : isTokenList(prompt)
        ? [{ kind: 'tokens', tokens: prompt }]
        : prompt.map((one) =>
            typeof one === 'string'
              ? { kind: 'raw' as const, text: one }
              : { kind: 'tokens' as const, tokens: one },
          );
  return prompts.map((one) => ({
    model: body.model,
    prompt: one,
    maxTokens: body.max_tokens ?? 16,
    sampling: toSampling(body),
    stop: stopStrings(body.stop),
    ...(logprobs !== undefined ? { logprobs: { top: logprobs } } : {}),
    ...(body.n ? { choices: body.n } : {}),
  }));
}

function isTokenList(prompt: CompletionRequest['prompt']): prompt is number[] {
  return Array.isArray(prompt) && typeof prompt[0] === 'number';
}

function constraintOf(format: ChatCompletionRequest['response_format']): Constraint | undefined {
  if (format?.type === 'json_object') return { kind: 'json' };
  if (format?.type === 'json_schema') {
    return {
      kind: 'json_schema',
      schema: format.json_schema.schema ?? { type: 'object' },
      origin: 'response_format.json_schema.schema',
    };
  }
  return undefined;
}

function unsupported(param: string, message: string): ApiError {
  return new ApiError(llmchatErrors.unsupportedParameter, message, { param });
}

/** Refuses, by name, parameters whose effect we cannot honour (silently ignoring them would change the answer). */
export function rejectUnsupported(request: ChatCompletionRequest | CompletionRequest): void {
  if ('functions' in request && request.functions !== undefined) {
    throw unsupported(
      'functions',
      "'functions' is deprecated and not supported; send 'tools' instead.",
    );
  }
  if ('function_call' in request && request.function_call !== undefined) {
    throw unsupported(
      'function_call',
      "'function_call' is deprecated and not supported; send 'tool_choice' instead.",
    );
  }
  if ('audio' in request && request.audio !== undefined)
    throw unsupported('audio', "Audio output is not supported; omit 'audio'.");
  if ('modalities' in request && request.modalities?.some((modality) => modality !== 'text')) {
    throw unsupported('modalities', "Only the 'text' modality is supported.");
  }
  if ('prediction' in request && request.prediction !== undefined) {
    throw unsupported('prediction', "'prediction' (predicted outputs) is not supported; omit it.");
  }
  if (
    'best_of' in request &&
    request.best_of !== undefined &&
    request.best_of !== null &&
    request.best_of !== 1
  ) {
    throw unsupported('best_of', "'best_of' must be 1.");
  }
  if ('echo' in request && request.echo)
    throw unsupported('echo', "'echo' is not supported; omit it.");
  if ('suffix' in request && request.suffix)
    throw unsupported('suffix', "'suffix' (insertion) is not supported; omit it.");
}

function flattenContent(
  content: MessageInput['content'] | null | undefined,
  param: string,
): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      if (part.type === 'text' && 'text' in part && typeof part.text === 'string') return part.text;
      throw unsupported(
        `${param}.${index}`,
        `Content parts of type '${part.type}' are not supported: this model reads text only.`,
      );
    })
    .join('');
}

export function toChatMessages(messages: readonly MessageInput[]): ChatMessage[] {
  return messages.map((message, index) => {
    const param = `messages.${index}.content`;
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: flattenContent(message.content, param) };
      case 'user':
        return { role: 'user', content: flattenContent(message.content, param) };
      case 'assistant':
        return {
          role: 'assistant',
          content: flattenContent(message.content, param),
          toolCalls: (message.tool_calls ?? []).map((call) => ({
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          })),
        };
      case 'tool':
        return { role: 'tool', content: flattenContent(message.content, param) };
      default:
        return message satisfies never;
    }
  });
}

export interface ToolPlan {
  /** Tools described to the model (empty for tool_choice "none"). */
  described: ToolDefinition[];
  /** Tools the model may call, with whether it must. */
  callable: CallableTool[];
  choice: 'none' | 'auto' | 'required';
  parallel: boolean;
}

const EMPTY_PARAMETERS = { type: 'object', properties: {} };

export function planTools(request: ChatCompletionRequest): ToolPlan {
  const tools: ToolDefinition[] = (request.tools ?? []).map((tool) => ({
    name: tool.function.name,
    ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
    parameters: tool.function.parameters ?? EMPTY_PARAMETERS,
  }));
  const names = new Set<string>();
  tools.forEach((tool, index) => {
    if (names.has(tool.name)) {
      throw new ApiError(
        errorCatalogue.invalidRequest,
        `Tool names must be unique; '${tool.name}' appears twice.`,
        {
          param: `tools.${index}.function.name`,
        },
      );
    }
    names.add(tool.name);
  });
  const callable = (tool: ToolDefinition): CallableTool => ({
    name: tool.name,
    parameters: tool.parameters,
    origin: `tools.${tools.indexOf(tool)}.function.parameters`,
  });
  const choice = request.tool_choice ?? (tools.length > 0 ? 'auto' : 'none');
  const parallel = request.parallel_tool_calls ?? true;
  if (tools.length === 0) {
    if (choice !== 'none' && choice !== 'auto') {
      throw new ApiError(errorCatalogue.invalidRequest, "'tool_choice' requires 'tools'.", {
        param: 'tool_choice',
      });
    }
    return { described: [], callable: [], choice: 'none', parallel };
  }
  if (choice === 'none') return { described: [], callable: [], choice: 'none', parallel };
  if (typeof choice === 'object') {
    const named = tools.find((tool) => tool.name === choice.function.name);
    if (!named) {
      throw new ApiError(
        errorCatalogue.invalidRequest,
        `tool_choice names '${choice.function.name}', which is not among 'tools'.`,
        { param: 'tool_choice' },
      );
    }
    return { described: tools, callable: [callable(named)], choice: 'required', parallel: false };
  }
  return { described: tools, callable: tools.map(callable), choice, parallel };
}

/** OpenAI's sampling defaults (temperature 1, top_p 1) unless the request says otherwise. */
export function toSampling(request: ChatCompletionRequest | CompletionRequest): SamplingOptions {
  return {
    temperature: request.temperature ?? 1,
    ...(request.top_p != null ? { topP: request.top_p } : {}),
    ...(request.top_k != null ? { topK: request.top_k } : {}),
    ...(request.min_p != null ? { minP: request.min_p } : {}),
    ...(request.seed != null ? { seed: request.seed } : {}),
    ...(request.presence_penalty ? { presencePenalty: request.presence_penalty } : {}),
    ...(request.frequency_penalty ? { frequencyPenalty: request.frequency_penalty } : {}),
    ...(request.logit_bias
      ? {
          logitBias: Object.fromEntries(
            Object.entries(request.logit_bias).map(([key, value]) => [Number(key), value]),
          ),
        }
      : {}),
    ...(request.ignore_eos ? { ignoreEos: true } : {}),
  };
}

export function stopStrings(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}
