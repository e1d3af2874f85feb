import type { Ajv } from 'ajv';
import { ApiError } from 'hrserve';
import type { LlamaGrammar } from 'node-llama-cpp';
import type { RenderedPrompt } from '../engine/chat-prompt.js';
import type { LlamaEngine } from '../engine/llama-engine.js';
import type { ChatMessage, ToolDefinition } from '../engine/types.js';
import { llmchatErrors } from '../errors.js';

export function contextLengthExceeded(promptTokens: number, contextSize: number): ApiError {
  return new ApiError(
    llmchatErrors.contextLengthExceeded,
    `This model's maximum context length is ${contextSize} tokens, but the prompt has ${promptTokens} tokens. Shorten the messages or the prompt.`,
    { param: 'messages' },
  );
}

/**
 * Renders the conversation; when it does not fit the context, either refuses
 * (400 context_length_exceeded) or, with truncation configured, drops the
 * oldest turns after the system prompt until it fits, keeping the last message.
 */
export function renderWithinContext(
  engine: LlamaEngine,
  messages: ChatMessage[],
  tools: ToolDefinition[],
  overflow: 'error' | 'truncate',
): RenderedPrompt {
  let kept = messages;
  for (;;) {
    const rendered = engine.renderChat(kept, tools);
    // At least one token of room must remain for the answer.
    if (rendered.tokens.length < engine.contextSize) return rendered;
    const firstDroppable = kept.findIndex((message) => message.role !== 'system');
    const canDrop =
      overflow === 'truncate' && firstDroppable !== -1 && firstDroppable < kept.length - 1;
    if (!canDrop) throw contextLengthExceeded(rendered.tokens.length, engine.contextSize);
    kept = kept.filter((_, index) => index !== firstDroppable);
  }
}

function invalidSchema(param: string, reason: string): ApiError {
  return new ApiError(
    llmchatErrors.invalidSchema,
    `The JSON schema in '${param}' is invalid: ${reason}.`,
    { param },
  );
}

/**
 * A grammar from a client's JSON schema. The schema is checked first (JSON
 * Schema meta-schema, resolvable $refs): the grammar converter would otherwise
 * turn a broken schema into a grammar for something else, silently.
 */
export async function grammarFromSchema(
  engine: LlamaEngine,
  schemas: Ajv,
  schema: Record<string, unknown>,
  param: string,
): Promise<LlamaGrammar> {
  try {
    schemas.compile(schema);
  } catch (error) {
    throw invalidSchema(param, error instanceof Error ? error.message : String(error));
  }
  // An empty schema admits any JSON value.
  if (Object.keys(schema).length === 0) return engine.jsonGrammar();
  try {
    return await engine.jsonSchemaGrammar(schema);
  } catch (error) {
    throw new ApiError(
      llmchatErrors.invalidSchema,
      `The JSON schema in '${param}' cannot be enforced: ${error instanceof Error ? error.message : String(error)}. Use type, properties, required, items, enum, const, anyOf/oneOf and string/number bounds.`,
      { param },
    );
  }
}
