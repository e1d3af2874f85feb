import { randomBytes } from 'node:crypto';
import type { ApiError } from 'hrserve';
import type { GenerationEvent, GenerationResult } from '../../engine/types.js';
import type { FinishedGeneration } from '../../generation/native-request.js';
import { toTokenLogprob } from '../token-logprobs.js';
import { onlyResult, type WireEncoder } from '../wire-encoder.js';
import type { ResponseCreateRequest } from './request.js';

/*
 * The Response object and its stream events, shaped as the API reference and
 * the `openai` client's types (Response, ResponseStreamEvent) describe them.
 * Pure: ids and the clock are given, so golden fixtures test every byte.
 */

/** `resp_…`, `msg_…`, `fc_…`, `conv_…`: a prefix and 24 random hex characters, as OpenAI's look. */
export function responsesId(prefix: 'resp' | 'msg' | 'fc' | 'fco' | 'conv'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export interface ResponseIdentity {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** What the client sent; its settings are echoed in the Response object. */
  request: ResponseCreateRequest;
  /** Whether the response is kept (GET /v1/responses/{id} finds it). */
  store: boolean;
  previousResponseId?: string | null;
  /** The conversation the response's input and output are appended to. */
  conversationId?: string | null;
  /** Ids of output items; `responsesId` unless a test fixes them. */
  itemId?: (prefix: 'msg' | 'fc') => string;
  /** Seconds since the epoch, for `completed_at`. */
  now?: () => number;
}

export type ResponseStatus =
  | 'queued'
  | 'in_progress'
  | 'completed'
  | 'incomplete'
  | 'failed'
  | 'cancelled';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  /** Each token's, when the request included `message.output_text.logprobs`; else empty. */
  logprobs: TokenLogprobWire[];
}

type TokenLogprobWire = ReturnType<typeof toTokenLogprob>;

export interface MessageOutput {
  id: string;
  type: 'message';
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

export interface FunctionCallOutput {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  call_id: string;
  name: string;
  arguments: string;
}

export type OutputItem = MessageOutput | FunctionCallOutput;

function usageOf(result: GenerationResult) {
  return {
    input_tokens: result.promptTokens,
    // Reused from the sequence's KV cache, and evaluated now (kept there for the next turn).
    input_tokens_details: {
      cached_tokens: result.timings.promptCached,
      cache_write_tokens: result.timings.promptEvaluated,
    },
    output_tokens: result.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: result.promptTokens + result.completionTokens,
  };
}

/**
 * A failed response's `error.code`, in the Response object's own vocabulary: a
 * refused request (queue full) is `rate_limit_exceeded`, a prompt the model cannot
 * take `invalid_prompt`, anything else `server_error`. The catalogue code stays in
 * the message and in the stream's `error` event.
 */
function responseErrorCode(
  error: ApiError,
): 'rate_limit_exceeded' | 'invalid_prompt' | 'server_error' {
  if (error.status === 429) return 'rate_limit_exceeded';
  if (error.status >= 400 && error.status < 500) return 'invalid_prompt';
  return 'server_error';
}

/** tool_choice as accepted (the converter refused every other kind). */
function echoedToolChoice(
  choice: ResponseCreateRequest['tool_choice'],
): 'none' | 'auto' | 'required' | { type: 'function'; name: string } {
  if (choice === undefined) return 'auto';
  if (typeof choice === 'string') return choice;
  return { type: 'function', name: String((choice as { name?: unknown }).name) };
}

/** The tools echoed back as the API shows them (function tools, `strict` made explicit). */
function echoedTools(request: ResponseCreateRequest) {
  return (request.tools ?? []).map((tool) => {
    const fn = tool as {
      name: string;
      description?: string | null;
      parameters?: Record<string, unknown> | null;
      strict?: boolean | null;
    };
    return {
      type: 'function' as const,
      name: fn.name,
      description: fn.description ?? null,
      parameters: fn.parameters ?? null,
      strict: fn.strict ?? true,
    };
  });
}

/** The Response object at a given moment of its life. */
export function toResponseObject(
  identity: ResponseIdentity,
  state: {
    status: ResponseStatus;
    output: OutputItem[];
    result?: GenerationResult;
    error?: ApiError;
    completedAt?: number;
  },
) {
  const { request } = identity;
  const text = state.output
    .filter((item): item is MessageOutput => item.type === 'message')
    .flatMap((item) => item.content.map((part) => part.text))
    .join('');
  return {
    id: identity.id,
    object: 'response' as const,
    created_at: identity.createdAt,
    status: state.status,
    background: request.background ?? false,
    completed_at: state.completedAt ?? null,
    error: state.error
      ? {
          code: responseErrorCode(state.error),
          message: `${state.error.code}: ${state.error.message}`,
        }
      : null,
    incomplete_details:
      state.status === 'incomplete' ? { reason: 'max_output_tokens' as const } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: request.max_tool_calls ?? null,
    metadata: request.metadata ?? {},
    model: request.model,
    output: state.output,
    output_text: text,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: identity.previousResponseId ?? null,
    ...(identity.conversationId ? { conversation: { id: identity.conversationId } } : {}),
    reasoning: { effort: null, summary: null },
    store: identity.store,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: 'text' as const } },
    tool_choice: echoedToolChoice(request.tool_choice),
    tools: echoedTools(request),
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    // Absent, not null, until there is something to say (the client's types have them optional).
    ...(state.result ? { usage: usageOf(state.result) } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
  };
}

export type ResponseObject = ReturnType<typeof toResponseObject>;

/** The output items of a finished generation: its text as a message, then each call. */
export function outputItems(
  result: GenerationResult,
  ids: { message: string; calls: string[] },
): OutputItem[] {
  const status = result.finishReason === 'length' ? 'incomplete' : 'completed';
  const items: OutputItem[] = [];
  if (result.text.length > 0 || result.toolCalls.length === 0) {
    items.push({
      id: ids.message,
      type: 'message',
      status,
      role: 'assistant',
      content: [
        {
          type: 'output_text',
          text: result.text,
          annotations: [],
          logprobs: (result.logprobs ?? []).map(toTokenLogprob),
        },
      ],
    });
  }
  result.toolCalls.forEach((call, index) => {
    items.push({
      id: ids.calls[index] ?? `fc_${index}`,
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
    });
  });
  return items;
}

/**
 * The Responses API's answer: one Response object, or the stream of events
 * (`response.created`, `response.in_progress`, items and parts added, text and
 * argument deltas, their `.done`s, then `response.completed` or
 * `response.incomplete`), numbered by `sequence_number` from 0.
 */
export interface ResponsesEncoder extends WireEncoder<ResponseObject> {
  /**
   * The finished Response object, the same one `close` and `body` send (computed once): the
   * route stores it before the client sees it.
   */
  final(results: FinishedGeneration[]): ResponseObject;
  /** The Response object before its answer: queued, or in progress with what it streamed. */
  snapshot(status: 'queued' | 'in_progress'): ResponseObject;
  /** The Response object of a generation that failed (or was stopped), with what it streamed. */
  failed(error: ApiError, status?: 'failed' | 'cancelled'): ResponseObject;
  /** `response.failed`, carrying that object: how a background stream ends when its work fails. */
  failedEvent(error: ApiError): string;
  /**
   * How a stream ends when its response was cancelled (POST …/cancel): an `error` event with
   * code `response_cancelled`, the Responses API having no event of its own for it.
   */
  cancelledEvent(): string;
}

export function responsesEncoder(identity: ResponseIdentity): ResponsesEncoder {
  const itemId = identity.itemId ?? responsesId;
  const now = identity.now ?? (() => Math.floor(Date.now() / 1000));
  let sequence = 0;
  const emit = (event: Record<string, unknown>) =>
    JSON.stringify({ type: event.type, sequence_number: sequence++, ...event });
  const output: OutputItem[] = [];
  /** The message being streamed, if text is flowing. */
  let message: MessageOutput | undefined;
  /** The calls being streamed, by the engine's call index. */
  const calls = new Map<number, FunctionCallOutput>();
  const messageId = itemId('msg');
  /** Whether `open` ran: the output items are then those streamed. */
  let streaming = false;
  let finished: ResponseObject | undefined;
  /** Log-probabilities of tokens whose text has not been sent yet: they go with the next delta. */
  let pendingLogprobs: TokenLogprobWire[] = [];

  /** Starts the message item that streamed text goes into; its two opening events. */
  const openMessage = (): string[] => {
    const opened: MessageOutput = {
      id: messageId,
      type: 'message',
      status: 'in_progress',
      role: 'assistant',
      content: [],
    };
    message = opened;
    output.push(opened);
    const index = output.length - 1;
    const part: OutputText = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    const events = [
      emit({ type: 'response.output_item.added', output_index: index, item: { ...opened } }),
    ];
    opened.content.push(part);
    events.push(
      emit({
        type: 'response.content_part.added',
        item_id: opened.id,
        output_index: index,
        content_index: 0,
        part: { ...part },
      }),
    );
    return events;
  };
  /**
   * An answer with no text and no call still has its (empty) message, as the non-streamed
   * object does: opened by `final` when it comes first, its events sent by `close`.
   */
  let emptyMessageOpening: string[] = [];
  const openEmptyMessage = () => {
    if (output.length === 0) emptyMessageOpening = openMessage();
  };

  const final = (results: FinishedGeneration[]): ResponseObject => {
    if (finished) return finished;
    const result = onlyResult(results);
    const incomplete = result.finishReason === 'length';
    if (streaming) openEmptyMessage();
    // Streamed items as the closing events leave them (the route may ask before `close`).
    const items = streaming
      ? output.map(
          (item): OutputItem => ({
            ...item,
            status: item.type === 'message' && incomplete ? 'incomplete' : 'completed',
          }),
        )
      : outputItems(result, {
          message: messageId,
          calls: result.toolCalls.map(() => itemId('fc')),
        });
    finished = toResponseObject(identity, {
      status: incomplete ? 'incomplete' : 'completed',
      output: items,
      result,
      completedAt: now(),
    });
    return finished;
  };

  const closeMessage = (status: MessageOutput['status']): string[] => {
    if (!message) return [];
    const done = message;
    message = undefined;
    done.status = status;
    const index = output.indexOf(done);
    const part = done.content[0] as OutputText;
    return [
      emit({
        type: 'response.output_text.done',
        item_id: done.id,
        output_index: index,
        content_index: 0,
        text: part.text,
        logprobs: part.logprobs,
      }),
      emit({
        type: 'response.content_part.done',
        item_id: done.id,
        output_index: index,
        content_index: 0,
        part,
      }),
      emit({ type: 'response.output_item.done', output_index: index, item: done }),
    ];
  };

  const closeCalls = (): string[] =>
    [...calls.values()].flatMap((call) => {
      if (call.status !== 'in_progress') return [];
      call.status = 'completed';
      const index = output.indexOf(call);
      return [
        emit({
          type: 'response.function_call_arguments.done',
          item_id: call.id,
          output_index: index,
          arguments: call.arguments,
        }),
        emit({ type: 'response.output_item.done', output_index: index, item: call }),
      ];
    });

  return {
    final,
    snapshot: (status) => toResponseObject(identity, { status, output: [...output] }),
    failed: (error, status = 'failed') =>
      toResponseObject(identity, {
        status,
        output,
        ...(status === 'failed' ? { error } : {}),
        completedAt: now(),
      }),
    failedEvent: (error) =>
      emit({
        type: 'response.failed',
        response: toResponseObject(identity, {
          status: 'failed',
          output,
          error,
          completedAt: now(),
        }),
      }),
    cancelledEvent: () =>
      emit({
        type: 'error',
        code: 'response_cancelled',
        message: `Response '${identity.id}' was cancelled (POST /v1/responses/${identity.id}/cancel).`,
        param: null,
      }),
    open: () => {
      streaming = true;
      const response = toResponseObject(identity, { status: 'in_progress', output: [] });
      return [
        emit({ type: 'response.created', response }),
        emit({ type: 'response.in_progress', response }),
      ];
    },
    event: (event: GenerationEvent) => {
      switch (event.type) {
        case 'text': {
          const chunks = message ? [] : openMessage();
          const current = message as MessageOutput | undefined;
          if (!current) return chunks;
          const part = current.content[0] as OutputText;
          part.text += event.delta;
          const logprobs = pendingLogprobs;
          pendingLogprobs = [];
          part.logprobs.push(...logprobs);
          chunks.push(
            emit({
              type: 'response.output_text.delta',
              item_id: current.id,
              output_index: output.indexOf(current),
              content_index: 0,
              delta: event.delta,
              logprobs,
            }),
          );
          return chunks;
        }
        case 'logprobs':
          pendingLogprobs.push(...event.entries.map(toTokenLogprob));
          return [];
        case 'tool_call_start': {
          const chunks = closeMessage('completed');
          const call: FunctionCallOutput = {
            id: itemId('fc'),
            type: 'function_call',
            status: 'in_progress',
            call_id: event.id,
            name: event.name,
            arguments: '',
          };
          calls.set(event.index, call);
          output.push(call);
          chunks.push(
            emit({
              type: 'response.output_item.added',
              output_index: output.length - 1,
              item: { ...call },
            }),
          );
          return chunks;
        }
        case 'tool_call_arguments': {
          const call = calls.get(event.index);
          if (!call) return [];
          call.arguments += event.fragment;
          return [
            emit({
              type: 'response.function_call_arguments.delta',
              item_id: call.id,
              output_index: output.indexOf(call),
              delta: event.fragment,
            }),
          ];
        }
        default:
          return [];
      }
    },
    close: (results) => {
      const result = onlyResult(results);
      const incomplete = result.finishReason === 'length';
      openEmptyMessage();
      const chunks = [
        ...emptyMessageOpening.splice(0),
        ...closeMessage(incomplete ? 'incomplete' : 'completed'),
        ...closeCalls(),
      ];
      const response = final(results);
      chunks.push(
        emit({ type: incomplete ? 'response.incomplete' : 'response.completed', response }),
      );
      return chunks;
    },
    body: final,
    error: (error: ApiError) =>
      emit({
        type: 'error',
        code: error.code,
        message: error.message,
        param: error.param ?? null,
      }),
  };
}
