import { randomBytes } from 'node:crypto';
import type { ApiError } from 'hrserve';
import type { GenerationEvent, ToolCall } from '../../engine/types.js';
import type { FinishedGeneration } from '../../generation/native-request.js';
import { onlyResult, type WireEncoder } from '../wire-encoder.js';
import { toAnthropicError } from './errors.js';

/*
 * Pure builders of the Message object and its stream, as Anthropic's API reference and the
 * official SDK's types (Message, RawMessageStreamEvent) have them: fields the SDK types as
 * required and that mean nothing here are null.
 */

export function messageId(): string {
  return `msg_${randomBytes(12).toString('hex')}`;
}

/** Anthropic's ids of tool calls (`toolu_…`), from the engine's (`call_…`). */
export function toolUseId(call: Pick<ToolCall, 'id'>): string {
  return `toolu_${call.id.replace(/^call_/, '')}`;
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'model_context_window_exceeded';

export interface TextBlock {
  type: 'text';
  text: string;
  citations: null;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
  caller: { type: 'direct' };
}

export type ContentBlock = TextBlock | ToolUseBlock;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: null;
  inference_geo: null;
  output_tokens_details: null;
  server_tool_use: null;
  service_tier: 'standard';
  speed: null;
}

export interface MessageObject {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: Usage;
}

export interface MessageIdentity {
  id: string;
  /** The model named in the request, echoed as Anthropic does. */
  model: string;
  /** The request's stop_sequences: the only stop strings reported as `stop_sequence`. */
  stopSequences: readonly string[];
  /** The request's max_tokens: an answer cut before it ran out of context instead. */
  maxTokens: number;
  /** Told in an error event, as in an error response. */
  requestId: string | null;
}

/**
 * Input tokens as Anthropic counts them: `input_tokens` were evaluated now, those read from
 * the KV cache (a prefix reused from an earlier request) are `cache_read_input_tokens`; the
 * three add up to the prompt.
 */
function usageOf(result: FinishedGeneration | undefined, promptTokens = 0): Usage {
  const cached = result?.timings.promptCached ?? 0;
  return {
    input_tokens: (result?.promptTokens ?? promptTokens) - cached,
    output_tokens: result?.completionTokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
  };
}

function stopOf(
  result: FinishedGeneration,
  identity: MessageIdentity,
): { stop_reason: StopReason; stop_sequence: string | null } {
  if (result.finishReason === 'length') {
    // Cut short of max_tokens: the context was full (the request's budget was clamped to it).
    const reason =
      result.completionTokens < identity.maxTokens ? 'model_context_window_exceeded' : 'max_tokens';
    return { stop_reason: reason, stop_sequence: null };
  }
  if (result.finishReason === 'tool_calls') return { stop_reason: 'tool_use', stop_sequence: null };
  const sequence = result.stopSequence;
  return sequence !== undefined && identity.stopSequences.includes(sequence)
    ? { stop_reason: 'stop_sequence', stop_sequence: sequence }
    : { stop_reason: 'end_turn', stop_sequence: null };
}

/** A call's arguments as the object Anthropic's `input` is (the grammar made them JSON). */
function inputOf(call: ToolCall): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(call.arguments);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    // Cut short by max_tokens: what was generated is not whole.
    return {};
  }
}

export function toContent(result: FinishedGeneration): ContentBlock[] {
  return [
    ...(result.text.length > 0
      ? [{ type: 'text' as const, text: result.text, citations: null }]
      : []),
    ...result.toolCalls.map(
      (call): ToolUseBlock => ({
        type: 'tool_use',
        id: toolUseId(call),
        name: call.name,
        input: inputOf(call),
        caller: { type: 'direct' },
      }),
    ),
  ];
}

function messageObject(
  identity: MessageIdentity,
  fields: Pick<MessageObject, 'content' | 'stop_reason' | 'stop_sequence' | 'usage'>,
): MessageObject {
  return {
    id: identity.id,
    type: 'message',
    role: 'assistant',
    model: identity.model,
    ...fields,
    stop_details: null,
    container: null,
    diagnostics: null,
  };
}

/**
 * The Messages API's answer: the Message object, or its stream — message_start, a ping,
 * then per content block content_block_start, its deltas (text_delta, input_json_delta) and
 * content_block_stop, then message_delta (stop reason, usage) and message_stop.
 */
export function anthropicEncoder(identity: MessageIdentity): WireEncoder<MessageObject> {
  const emit = (event: Record<string, unknown>) => JSON.stringify(event);
  /** The open block: text, or a tool call by its engine index. */
  let open:
    | { index: number; kind: 'text' }
    | { index: number; kind: 'tool'; call: number }
    | undefined;
  let blocks = 0;
  const closeBlock = (): string[] => {
    if (!open) return [];
    const { index } = open;
    open = undefined;
    return [emit({ type: 'content_block_stop', index })];
  };
  const startBlock = (block: ContentBlock, opened: NonNullable<typeof open>): string[] => {
    open = opened;
    blocks += 1;
    return [emit({ type: 'content_block_start', index: opened.index, content_block: block })];
  };

  return {
    open: (_choices, promptTokens) => {
      const message = messageObject(identity, {
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usageOf(undefined, promptTokens?.[0] ?? 0),
      });
      return [emit({ type: 'message_start', message }), emit({ type: 'ping' })];
    },
    event: (event: GenerationEvent) => {
      switch (event.type) {
        case 'text': {
          const chunks =
            open?.kind === 'text'
              ? []
              : [
                  ...closeBlock(),
                  ...startBlock(
                    { type: 'text', text: '', citations: null },
                    { index: blocks, kind: 'text' },
                  ),
                ];
          const index = open?.index ?? 0;
          chunks.push(
            emit({
              type: 'content_block_delta',
              index,
              delta: { type: 'text_delta', text: event.delta },
            }),
          );
          return chunks;
        }
        case 'tool_call_start':
          return [
            ...closeBlock(),
            ...startBlock(
              {
                type: 'tool_use',
                id: toolUseId(event),
                name: event.name,
                input: {},
                caller: { type: 'direct' },
              },
              { index: blocks, kind: 'tool', call: event.index },
            ),
          ];
        case 'tool_call_arguments': {
          if (open?.kind !== 'tool' || open.call !== event.index) return [];
          return [
            emit({
              type: 'content_block_delta',
              index: open.index,
              delta: { type: 'input_json_delta', partial_json: event.fragment },
            }),
          ];
        }
        default:
          return [];
      }
    },
    close: (results) => {
      const result = onlyResult(results);
      const { input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens } =
        usageOf(result);
      return [
        ...closeBlock(),
        emit({
          type: 'message_delta',
          delta: { ...stopOf(result, identity), stop_details: null, container: null },
          usage: {
            input_tokens,
            output_tokens,
            cache_creation_input_tokens,
            cache_read_input_tokens,
            output_tokens_details: null,
            server_tool_use: null,
          },
        }),
        emit({ type: 'message_stop' }),
      ];
    },
    body: (results) => {
      const result = onlyResult(results);
      return messageObject(identity, {
        content: toContent(result),
        ...stopOf(result, identity),
        usage: usageOf(result),
      });
    },
    error: (error: ApiError) => JSON.stringify(toAnthropicError(error, identity.requestId)),
  };
}
