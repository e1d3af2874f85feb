import type { Token } from 'node-llama-cpp';
import type { RenderedPrompt } from '../engine/chat-prompt.js';
import { ContextLengthExceededError, TokenOutOfRangeError } from '../engine/engine-errors.js';
import type { ModelEngine } from '../engine/model-engine.js';
import type { ChatMessage, GenerationJob, ToolDefinition } from '../engine/types.js';
import type { NativeChatRequest } from './native-request.js';

/** A prompt longer than the context: refuse it, or drop the oldest turns (LLMCHAT_CONTEXT_OVERFLOW). */
export type ContextOverflow = 'error' | 'truncate';

/** The engine's job for a request, on the model that will run it: prompt tokens, budget, stops. */
export function jobOf(
  engine: ModelEngine,
  request: NativeChatRequest,
  overflow: ContextOverflow,
): GenerationJob {
  const window = Math.min(request.contextWindow ?? engine.contextSize, engine.contextSize);
  const rendered =
    request.prompt.kind === 'chat'
      ? // A client's smaller window (num_ctx) drops whole turns, oldest first, as Ollama does.
        request.contextWindow !== undefined && !request.context
        ? renderWithinContext(
            engine,
            request.prompt.messages,
            request.prompt.tools,
            'truncate',
            window,
          )
        : renderWithinContext(engine, request.prompt.messages, request.prompt.tools, overflow)
      : request.prompt.kind === 'raw'
        ? rawPrompt(engine, request.prompt.text)
        : tokenPrompt(engine, request.prompt.tokens);
  const continued = request.context ? afterContext(engine, request.context, rendered) : rendered;
  const prompt =
    request.contextWindow !== undefined && continued.tokens.length >= window
      ? { ...continued, tokens: keepTail(engine, continued.tokens, window) }
      : continued;
  if (prompt.tokens.length >= engine.contextSize) {
    throw new ContextLengthExceededError(prompt.tokens.length, engine.contextSize, 'prompt');
  }
  const room = Math.max(0, window - prompt.tokens.length);
  return {
    promptTokens: prompt.tokens,
    maxTokens: Math.min(request.maxTokens ?? room, room),
    sampling: request.sampling,
    stop: [...request.stop, ...prompt.stopStrings],
    stopTokens: prompt.stopTokens,
    ...(request.constraint ? { constraint: request.constraint } : {}),
    ...(request.tools && request.tools.tools.length > 0 ? { tools: request.tools } : {}),
    ...(request.logprobs ? { logprobs: request.logprobs } : {}),
  };
}

/**
 * Renders the conversation; when it does not fit the context, either refuses
 * or, with truncation configured, drops the oldest turns after the system
 * prompt until it fits, keeping the last message.
 */
function renderWithinContext(
  engine: ModelEngine,
  messages: ChatMessage[],
  tools: ToolDefinition[],
  overflow: ContextOverflow,
  limit = engine.contextSize,
): RenderedPrompt {
  let kept = messages;
  for (;;) {
    const rendered = engine.renderChat(kept, tools);
    // At least one token of room must remain for the answer.
    if (rendered.tokens.length < limit) return rendered;
    const firstDroppable = kept.findIndex((message) => message.role !== 'system');
    const canDrop =
      overflow === 'truncate' && firstDroppable !== -1 && firstDroppable < kept.length - 1;
    if (!canDrop) {
      // Within the model's context but not a client's smaller window: cut from the front below.
      if (rendered.tokens.length < engine.contextSize) return rendered;
      throw new ContextLengthExceededError(rendered.tokens.length, engine.contextSize, 'messages');
    }
    kept = kept.filter((_, index) => index !== firstDroppable);
  }
}

/** An earlier exchange's token ids (Ollama's `context`), then this prompt without its BOS. */
function afterContext(
  engine: ModelEngine,
  context: number[],
  prompt: RenderedPrompt,
): RenderedPrompt {
  const outside = context.find((token) => token >= engine.vocabularySize);
  if (outside !== undefined) throw new TokenOutOfRangeError(outside, engine.vocabularySize);
  const bos = engine.bosToken;
  const rest =
    bos !== undefined && prompt.tokens[0] === bos ? prompt.tokens.slice(1) : prompt.tokens;
  return { ...prompt, tokens: [...(context as Token[]), ...rest] };
}

/**
 * A prompt longer than a client's smaller window (Ollama's `num_ctx`), cut from the front
 * as Ollama does: the BOS token and the last half-window of tokens are kept, so the answer
 * has the other half.
 */
function keepTail(engine: ModelEngine, tokens: Token[], window: number): Token[] {
  const bos = engine.bosToken;
  const head = bos !== undefined && tokens[0] === bos ? [bos] : [];
  const keep = Math.max(1, Math.floor(window / 2) - head.length);
  return [...head, ...tokens.slice(-keep)];
}

/** Token ids exactly as given (a client that tokenized its prompt itself chose its BOS too). */
function tokenPrompt(engine: ModelEngine, tokens: number[]): RenderedPrompt {
  const outside = tokens.find((token) => token >= engine.vocabularySize);
  if (outside !== undefined) throw new TokenOutOfRangeError(outside, engine.vocabularySize);
  if (tokens.length >= engine.contextSize) {
    throw new ContextLengthExceededError(tokens.length, engine.contextSize, 'prompt');
  }
  return { tokens: tokens as Token[], stopStrings: [], stopTokens: [] };
}

/** The text as is after the model's BOS token, as llama.cpp's server evaluates raw prompts. */
function rawPrompt(engine: ModelEngine, text: string): RenderedPrompt {
  const textTokens = engine.tokenize(text, false);
  const bos = engine.bosToken;
  const tokens: Token[] =
    bos !== undefined && textTokens[0] !== bos ? [bos, ...textTokens] : textTokens;
  if (tokens.length >= engine.contextSize) {
    throw new ContextLengthExceededError(tokens.length, engine.contextSize, 'prompt');
  }
  return { tokens, stopStrings: [], stopTokens: [] };
}
