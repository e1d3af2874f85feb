import { ApiError, errorCatalogue } from 'hrserve';
import type {
  CallableTool,
  ChatMessage,
  Constraint,
  ToolCalling,
  ToolDefinition,
} from '../../engine/types.js';
import { llmchatErrors } from '../../errors.js';
import type { NativeChatRequest } from '../../generation/native-request.js';
import type {
  ContentBlockInput,
  CountTokensRequest,
  MessageCreateRequest,
  MessageParamInput,
  ToolInput,
} from './request.js';

/**
 * Anthropic Messages requests as native ones: pure, tested with golden fixtures. The
 * conversation keeps its order: a user turn's tool_result blocks become tool messages
 * (answering the assistant turn's tool_use blocks by id), its text a user message after them.
 */
export function messagesToNative(body: MessageCreateRequest): NativeChatRequest {
  const prompt = promptToNative(body);
  return {
    model: body.model,
    prompt: { kind: 'chat', messages: prompt.messages, tools: prompt.described },
    maxTokens: body.max_tokens,
    sampling: {
      // Anthropic's default temperature is 1, as OpenAI's.
      temperature: body.temperature ?? 1,
      ...(body.top_p !== undefined ? { topP: body.top_p } : {}),
      ...(body.top_k !== undefined ? { topK: body.top_k } : {}),
    },
    stop: body.stop_sequences ?? [],
    ...(prompt.constraint ? { constraint: prompt.constraint } : {}),
    ...(prompt.tools ? { tools: prompt.tools } : {}),
  };
}

export interface AnthropicPrompt {
  messages: ChatMessage[];
  /** Tools described to the model. */
  described: ToolDefinition[];
  tools?: ToolCalling;
  constraint?: Constraint;
}

/** The conversation, tools and format of a request (count_tokens reads the same). */
export function promptToNative(body: CountTokensRequest): AnthropicPrompt {
  const plan = planTools(body);
  const constraint = body.output_config?.format
    ? ({
        kind: 'json_schema',
        schema: body.output_config.format.schema,
        origin: 'output_config.format.schema',
      } satisfies Constraint)
    : undefined;
  if (constraint && plan.tools) {
    throw invalid(
      'output_config.format',
      "'output_config.format' cannot be combined with tools the model may call: send one or the other (or tool_choice none).",
    );
  }
  const system = systemText(body.system);
  const messages = [
    ...(system ? [{ role: 'system' as const, content: system }] : []),
    ...conversation(body.messages),
  ];
  return {
    messages,
    described: plan.described,
    ...(plan.tools ? { tools: plan.tools } : {}),
    ...(constraint ? { constraint } : {}),
  };
}

function invalid(param: string, message: string): ApiError {
  return new ApiError(errorCatalogue.invalidRequest, message, { param });
}

function unsupported(param: string, message: string): ApiError {
  return new ApiError(llmchatErrors.unsupportedParameter, message, { param });
}

/**
 * Claude Code opens its system prompt with a billing line whose `cch=` value changes every
 * request; kept, it would make every prompt differ from its third token on, and no request
 * would reuse the KV cache. It means nothing to a local model: dropped (as llama.cpp and
 * vLLM do).
 */
const BILLING_HEADER = 'x-anthropic-billing-header:';

function systemText(system: CountTokensRequest['system']): string {
  if (system === undefined) return '';
  const blocks = typeof system === 'string' ? [system] : system.map((block) => block.text);
  return blocks.filter((text) => !text.startsWith(BILLING_HEADER)).join('\n');
}

function unreadable(block: { type: string }, param: string): ApiError {
  const what =
    block.type === 'image' || block.type === 'document'
      ? `${block.type}s: this model reads text only`
      : `'${block.type}' blocks: they come from Anthropic's server tools, which run here nowhere`;
  return unsupported(param, `Content blocks of type '${block.type}' are not supported (${what}).`);
}

/** The text of a tool_result's content (a string, or text blocks). */
function toolResultText(block: Extract<ContentBlockInput, { type: 'tool_result' }>): string {
  const { content } = block;
  const text =
    content === undefined
      ? ''
      : typeof content === 'string'
        ? content
        : content
            .map((part) =>
              part.type === 'text' && 'text' in part
                ? (part.text as string)
                : // A tool's output the model cannot read (a screenshot, a PDF): said so in
                  // its place, not refused, or the conversation would fail from here on.
                  `[${part.type} omitted: this model reads text only]`,
            )
            .join('\n');
  // The model reads a failed call as such (Anthropic's is_error).
  return block.is_error ? `Error: ${text}` : text;
}

function conversation(messages: readonly MessageParamInput[]): ChatMessage[] {
  const chat: ChatMessage[] = [];
  /** The tool_use ids of the last assistant turn, in order: the calls a user turn answers. */
  let calls: string[] = [];
  messages.forEach((message, index) => {
    const param = `messages.${index}.content`;
    if (message.role === 'system') {
      const content = systemText(message.content);
      if (content.length > 0) chat.push({ role: 'system', content });
      return;
    }
    const blocks: ContentBlockInput[] =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : message.content;
    const texts: string[] = [];
    const toolCalls: NonNullable<ChatMessage['toolCalls']> = [];
    const results: Array<{ order: number; content: string }> = [];
    blocks.forEach((block, blockIndex) => {
      const at = `${param}.${blockIndex}`;
      switch (block.type) {
        case 'text':
          texts.push(block.text);
          return;
        case 'thinking':
        case 'redacted_thinking':
          return;
        case 'tool_use':
          if (message.role !== 'assistant') {
            throw invalid(at, "'tool_use' blocks belong in assistant messages.");
          }
          toolCalls.push({
            id: block.id,
            name: block.name,
            arguments: JSON.stringify(block.input),
          });
          return;
        case 'tool_result': {
          if (message.role !== 'user') {
            throw invalid(at, "'tool_result' blocks belong in user messages.");
          }
          const order = calls.indexOf(block.tool_use_id);
          if (order === -1) {
            throw invalid(
              `${at}.tool_use_id`,
              `tool_result answers '${block.tool_use_id}', which the assistant turn before it has no tool_use block with: give the id of a call it answers.`,
            );
          }
          results.push({ order, content: toolResultText(block) });
          return;
        }
        default:
          throw unreadable(block, at);
      }
    });
    if (message.role === 'assistant') {
      calls = toolCalls.map((call) => call.id);
      chat.push({ role: 'assistant', content: texts.join('\n'), toolCalls });
      return;
    }
    // The model reads results by position: in the order of the calls they answer.
    results.sort((a, b) => a.order - b.order);
    for (const result of results) chat.push({ role: 'tool', content: result.content });
    const content = texts.join('\n');
    if (content.length > 0 || blocks.length === 0) chat.push({ role: 'user', content });
  });
  return chat;
}

interface ToolPlan {
  described: ToolDefinition[];
  tools?: ToolCalling;
}

function customTool(tool: ToolInput, index: number): ToolDefinition {
  if (!('input_schema' in tool) || (tool.type != null && tool.type !== 'custom')) {
    throw unsupported(
      `tools.${index}`,
      `Tool '${tool.name}' is of type '${tool.type}', one of Anthropic's server tools, which do not run here: give tools with a name, description and input_schema.`,
    );
  }
  return {
    name: tool.name,
    ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
    parameters: tool.input_schema as Record<string, unknown>,
  };
}

/** tool_choice: auto (may call), any (must call one), tool (must call that one), none. */
function planTools(body: CountTokensRequest): ToolPlan {
  const described = (body.tools ?? []).map(customTool);
  const names = new Set<string>();
  described.forEach((tool, index) => {
    if (names.has(tool.name)) {
      throw invalid(
        `tools.${index}.name`,
        `Tool names must be unique; '${tool.name}' appears twice.`,
      );
    }
    names.add(tool.name);
  });
  const choice = body.tool_choice ?? { type: 'auto' as const };
  if (described.length === 0) {
    if (choice.type === 'any' || choice.type === 'tool') {
      throw invalid('tool_choice', `tool_choice '${choice.type}' needs 'tools'.`);
    }
    return { described };
  }
  if (choice.type === 'none') return { described: [] };
  const callable = (tool: ToolDefinition): CallableTool => ({
    name: tool.name,
    parameters: tool.parameters,
    origin: `tools.${described.indexOf(tool)}.input_schema`,
  });
  const parallel = !('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use);
  if (choice.type === 'tool') {
    const named = described.find((tool) => tool.name === choice.name);
    if (!named) {
      throw invalid(
        'tool_choice.name',
        `tool_choice names '${choice.name}', which is not among 'tools'.`,
      );
    }
    return { described, tools: { choice: 'required', tools: [callable(named)], parallel: false } };
  }
  return {
    described,
    tools: {
      choice: choice.type === 'any' ? 'required' : 'auto',
      tools: described.map(callable),
      parallel,
    },
  };
}
