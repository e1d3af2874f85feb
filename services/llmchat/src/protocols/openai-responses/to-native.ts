import { ApiError, errorCatalogue } from 'hrserve';
import type { CallableTool, ChatMessage, Constraint, ToolDefinition } from '../../engine/types.js';
import { llmchatErrors } from '../../errors.js';
import type { NativeChatRequest } from '../../generation/native-request.js';
import type {
  FunctionCallItem,
  FunctionCallOutputItem,
  InputItem,
  MessageItem,
  ResponseCreateRequest,
} from './request.js';

/*
 * A Responses request as a native one: pure, tested with golden fixtures. The
 * conversation is the instructions, then the history a stored response or
 * conversation brings (given by the route), then this request's input items.
 * Items and tools a local text model cannot honour are refused by name.
 */

function unsupported(param: string, message: string): ApiError {
  return new ApiError(llmchatErrors.unsupportedParameter, message, { param });
}

function invalid(param: string, message: string): ApiError {
  return new ApiError(errorCatalogue.invalidRequest, message, { param });
}

type TextParts = MessageItem['content'];

/** A message item: `type` "message", or none with a role (the API's EasyInputMessage). */
function isMessage(item: InputItem): item is MessageItem {
  return 'role' in item && (item.type === undefined || item.type === 'message');
}

function textOf(
  content: TextParts | Array<{ type: string; text?: string }>,
  param: string,
): string {
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      if (
        (part.type === 'input_text' || part.type === 'output_text') &&
        typeof part.text === 'string'
      ) {
        return part.text;
      }
      throw unsupported(
        `${param}.${index}.type`,
        `Content parts of type '${part.type}' are not supported: this model reads text only (send input_text).`,
      );
    })
    .join('');
}

/** The input (a string, or items) as chat messages, after `history`; call ids are checked across both. */
export function inputToMessages(
  input: ResponseCreateRequest['input'],
  history: readonly ChatMessage[] = [],
  options: { checkCallIds?: boolean; field?: string } = {},
): ChatMessage[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const calls = new Set(
    history.flatMap((message) => message.toolCalls ?? []).map((call) => call.id),
  );
  const messages: ChatMessage[] = [];
  input.forEach((item, index) => {
    const param = `${options.field ?? 'input'}.${index}`;
    if (isMessage(item)) {
      const content = textOf(item.content, `${param}.content`);
      messages.push({ role: item.role === 'developer' ? 'system' : item.role, content });
      return;
    }
    switch (item.type) {
      case 'function_call': {
        const call = item as FunctionCallItem;
        calls.add(call.call_id);
        const toolCall = { id: call.call_id, name: call.name, arguments: call.arguments };
        // Calls made in one turn replay as one assistant message, as the model made them.
        const last = messages.at(-1);
        if (last?.role === 'assistant') last.toolCalls = [...(last.toolCalls ?? []), toolCall];
        else messages.push({ role: 'assistant', content: '', toolCalls: [toolCall] });
        return;
      }
      case 'function_call_output': {
        const output = item as FunctionCallOutputItem;
        if (options.checkCallIds !== false && !calls.has(output.call_id)) {
          throw invalid(
            `${param}.call_id`,
            `No function_call with call_id '${output.call_id}' comes before this output: send the function_call item first (or continue its response with previous_response_id).`,
          );
        }
        messages.push({
          role: 'tool',
          content:
            typeof output.output === 'string'
              ? output.output
              : textOf(output.output, `${param}.output`),
        });
        return;
      }
      default:
        throw unsupported(
          `${param}.type`,
          `Input items of type '${item.type}' are not supported: send message, function_call and function_call_output items.`,
        );
    }
  });
  return messages;
}

interface ToolPlan {
  described: ToolDefinition[];
  callable: CallableTool[];
  choice: 'none' | 'auto' | 'required';
  parallel: boolean;
}

const EMPTY_PARAMETERS = { type: 'object', properties: {} };

/** Function tools and tool_choice, as the engine takes them. */
export function planResponseTools(body: ResponseCreateRequest): ToolPlan {
  const tools: ToolDefinition[] = (body.tools ?? []).map((tool, index) => {
    if (tool.type !== 'function' || !('name' in tool)) {
      throw unsupported(
        `tools.${index}.type`,
        `Tools of type '${tool.type}' are not supported: only function tools run here.`,
      );
    }
    const fn = tool as {
      name: string;
      description?: string | null;
      parameters?: Record<string, unknown> | null;
    };
    return {
      name: fn.name,
      ...(fn.description ? { description: fn.description } : {}),
      parameters: fn.parameters ?? EMPTY_PARAMETERS,
    };
  });
  tools.forEach((tool, index) => {
    if (tools.findIndex((other) => other.name === tool.name) !== index) {
      throw invalid(
        `tools.${index}.name`,
        `Tool names must be unique; '${tool.name}' appears twice.`,
      );
    }
  });
  if (body.max_tool_calls != null && body.max_tool_calls !== 1) {
    throw unsupported(
      'max_tool_calls',
      "'max_tool_calls' can only be 1 here (one call per turn); leave it out for no limit.",
    );
  }
  const parallel = body.max_tool_calls === 1 ? false : (body.parallel_tool_calls ?? true);
  const callable = (tool: ToolDefinition): CallableTool => ({
    name: tool.name,
    parameters: tool.parameters,
    origin: `tools.${tools.indexOf(tool)}.parameters`,
  });
  const requested = body.tool_choice ?? (tools.length > 0 ? 'auto' : 'none');
  if (typeof requested === 'object' && requested.type !== 'function') {
    throw unsupported(
      'tool_choice.type',
      `tool_choice of type '${requested.type}' is not supported: use "none", "auto", "required" or {"type": "function", "name": …}.`,
    );
  }
  if (tools.length === 0 || requested === 'none') {
    if (requested === 'required' || typeof requested === 'object') {
      throw invalid('tool_choice', "'tool_choice' requires function 'tools'.");
    }
    return { described: [], callable: [], choice: 'none', parallel };
  }
  if (typeof requested === 'object') {
    const name = (requested as { name: string }).name;
    const named = tools.find((tool) => tool.name === name);
    if (!named) {
      throw invalid('tool_choice.name', `tool_choice names '${name}', which is not among 'tools'.`);
    }
    return { described: tools, callable: [callable(named)], choice: 'required', parallel: false };
  }
  return { described: tools, callable: tools.map(callable), choice: requested, parallel };
}

function constraintOf(body: ResponseCreateRequest): Constraint | undefined {
  const format = body.text?.format;
  if (format?.type === 'json_object') return { kind: 'json' };
  if (format?.type === 'json_schema') {
    return { kind: 'json_schema', schema: format.schema, origin: 'text.format.schema' };
  }
  return undefined;
}

/**
 * `include: ["message.output_text.logprobs"]` asks for each output token's log-probability;
 * `top_logprobs` (0–20) for that many alternatives, and implies the include.
 */
function responseLogprobs(body: ResponseCreateRequest): { top: number } | undefined {
  const included = body.include?.includes('message.output_text.logprobs') === true;
  const top = body.top_logprobs ?? undefined;
  return included || top !== undefined ? { top: top ?? 0 } : undefined;
}

/**
 * The native request of a Responses create: `history` is what a stored
 * response chain or conversation already holds (the route reads it).
 */
export function responseToNative(
  body: ResponseCreateRequest,
  history: readonly ChatMessage[] = [],
): NativeChatRequest {
  const tools = planResponseTools(body);
  const logprobs = responseLogprobs(body);
  const constraint = constraintOf(body);
  if (constraint && tools.choice !== 'none') {
    throw invalid(
      'text.format',
      "'text.format' json_object/json_schema cannot be combined with tools; send one or the other.",
    );
  }
  const messages: ChatMessage[] = [
    ...(body.instructions ? [{ role: 'system' as const, content: body.instructions }] : []),
    ...history,
    ...inputToMessages(body.input, history),
  ];
  if (messages.every((message) => message.role === 'system')) {
    throw invalid('input', "'input' is required: a string, or a list of message items.");
  }
  return {
    model: body.model,
    prompt: { kind: 'chat', messages, tools: tools.described },
    ...(body.max_output_tokens != null ? { maxTokens: body.max_output_tokens } : {}),
    sampling: {
      temperature: body.temperature ?? 1,
      ...(body.top_p != null ? { topP: body.top_p } : {}),
      ...(body.seed != null ? { seed: body.seed } : {}),
    },
    stop: [],
    // OpenAI's default is `disabled`: a conversation too long for the context is a 400.
    contextOverflow: body.truncation === 'auto' ? 'truncate' : 'error',
    ...(constraint ? { constraint } : {}),
    ...(tools.choice !== 'none'
      ? { tools: { choice: tools.choice, tools: tools.callable, parallel: tools.parallel } }
      : {}),
    ...(logprobs ? { logprobs } : {}),
  };
}
