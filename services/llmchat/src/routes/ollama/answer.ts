import type { Ajv } from 'ajv';
import { ApiError, errorCatalogue, type FastifyReply, type FastifyRequest } from 'hrserve';
import type { LlamaGrammar, Token } from 'node-llama-cpp';
import type { LlmchatConfig } from '../../config.js';
import type { LlamaEngine } from '../../engine/llama-engine.js';
import type { ChatMessage, GenerationResult, ToolDefinition } from '../../engine/types.js';
import {
  contextLengthExceeded,
  grammarFromSchema,
  renderWithinContext,
} from '../prepare-prompt.js';
import { jsonPresenter } from '../presenters.js';
import { type GenerationDeps, responseOf, runGeneration, withModel } from '../run-generation.js';
import { ndjsonPresenter } from './ndjson.js';
import type { OllamaOptions } from './requests.js';
import { doneFields, maxTokensFor, toOllamaToolCalls, toSampling } from './translate.js';

/** What /api/chat and /api/generate share once their bodies are read. */
export interface OllamaAsk {
  operation: 'chat' | 'generate';
  model: string;
  keepAliveMs: number | undefined;
  format: 'json' | '' | Record<string, unknown> | undefined;
  options: OllamaOptions | undefined;
  stream: boolean;
  /** Chat messages, or the generate prompt as messages (unless raw). */
  messages: ChatMessage[];
  tools: ToolDefinition[];
  /** /api/generate with raw: the prompt as is, no template. */
  rawPrompt?: string;
}

/** An answer line's identity: Ollama puts model and time on every line. */
const stamp = (model: string) => ({ model, created_at: new Date().toISOString() });

/**
 * Loads the model (or waits for it), generates, and answers in Ollama's shape:
 * NDJSON lines (`message`/`response` pieces, then a `done` line with counts and
 * nanosecond durations) or one object with `stream: false`.
 */
export async function answerOllama(
  deps: GenerationDeps,
  config: LlmchatConfig,
  schemas: Ajv,
  ask: OllamaAsk,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const startedAt = performance.now();
  const keepAlive = ask.keepAliveMs !== undefined ? { keepAliveMs: ask.keepAliveMs } : {};
  return withModel(deps, ask.model, keepAlive, reply, async (lease, admission) => {
    const loadMs = performance.now() - startedAt;
    const engine = lease.engine;
    const grammar = await formatGrammar(engine, schemas, ask.format);
    if (grammar && ask.tools.length > 0) {
      throw new ApiError(
        errorCatalogue.invalidRequest,
        "'format' cannot be combined with 'tools'; send one or the other.",
        { param: 'format' },
      );
    }
    const toolGrammars = await Promise.all(
      ask.tools.map(async (tool, index) => ({
        name: tool.name,
        argumentsGrammar: await grammarFromSchema(
          engine,
          schemas,
          tool.parameters,
          `tools.${index}.function.parameters`,
        ),
      })),
    );
    const prompt = promptOf(engine, ask, config);
    const maxTokens = maxTokensFor(ask.options, prompt.tokens.length, engine.contextSize);
    const job = {
      promptTokens: prompt.tokens,
      maxTokens,
      sampling: toSampling(ask.options),
      stop: [...(ask.options?.stop ?? []), ...prompt.stopStrings],
      stopTokens: prompt.stopTokens,
      ...(grammar ? { grammar } : {}),
      ...(toolGrammars.length > 0
        ? { tools: { choice: 'auto' as const, tools: toolGrammars, parallel: true } }
        : {}),
    };
    const isChat = ask.operation === 'chat';
    const piece = (text: string) =>
      isChat
        ? { ...stamp(ask.model), message: { role: 'assistant', content: text }, done: false }
        : { ...stamp(ask.model), response: text, done: false };
    const final = (result: GenerationResult, text: string) => {
      const timing = { startedAt, loadMs };
      if (!isChat) return { ...stamp(ask.model), response: text, ...doneFields(result, timing) };
      const calls = toOllamaToolCalls(result);
      return {
        ...stamp(ask.model),
        message: {
          role: 'assistant',
          content: text,
          ...(calls.length ? { tool_calls: calls } : {}),
        },
        ...doneFields(result, timing),
      };
    };
    const presenter = ask.stream
      ? ndjsonPresenter(reply, {
          sink: (send) => ({
            text: (delta) => send(piece(delta)),
            toolCallStart: () => {},
            toolCallArguments: () => {},
          }),
          // Tool calls arrive whole on the last line, as Ollama sends them.
          closing: (result) => [final(result, '')],
        })
      : jsonPresenter(reply, (result) => final(result, result.text));

    const operation = isChat ? 'chat' : 'text_completion';
    const answer = await runGeneration(
      deps,
      lease,
      admission,
      request,
      {
        operation,
        model: ask.model,
        job,
        attributes: {
          'gen_ai.operation.name': operation,
          'gen_ai.provider.name': 'llama.cpp',
          'gen_ai.request.model': ask.model,
          'gen_ai.response.model': engine.info.id,
          'gen_ai.request.max_tokens': maxTokens,
          ...(ask.options?.temperature !== undefined
            ? { 'gen_ai.request.temperature': ask.options.temperature }
            : {}),
          model: ask.model,
          streaming: ask.stream,
          api: 'ollama',
          num_messages: ask.messages.length,
          num_tools: ask.tools.length,
          ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
        },
      },
      presenter,
    );
    return responseOf(reply, ask.stream, answer);
  });
}

async function formatGrammar(
  engine: LlamaEngine,
  schemas: Ajv,
  format: OllamaAsk['format'],
): Promise<LlamaGrammar | undefined> {
  if (format === undefined || format === '') return undefined;
  if (format === 'json') return engine.jsonGrammar();
  return grammarFromSchema(engine, schemas, format, 'format');
}

function promptOf(engine: LlamaEngine, ask: OllamaAsk, config: LlmchatConfig) {
  if (ask.rawPrompt === undefined) {
    return renderWithinContext(engine, ask.messages, ask.tools, config.LLMCHAT_CONTEXT_OVERFLOW);
  }
  // Raw: the text as is after the model's BOS token, as llama.cpp's server does.
  const text = engine.tokenize(ask.rawPrompt, false);
  const bos = engine.bosToken;
  const tokens: Token[] = bos !== undefined && text[0] !== bos ? [bos, ...text] : text;
  if (tokens.length >= engine.contextSize)
    throw contextLengthExceeded(tokens.length, engine.contextSize);
  return { tokens, stopStrings: [] as string[], stopTokens: [] as Token[] };
}
