import type { LlamaGrammar, Token } from 'node-llama-cpp';

/** A chat message in the engine's terms (already validated, content flattened to text). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Assistant messages: the calls it made. */
  toolCalls?: ToolCall[];
}

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, as OpenAI carries it. */
  arguments: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface SamplingOptions {
  temperature: number;
  topP?: number;
  topK?: number;
  minP?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** llama.cpp's repeat penalty over the recent tokens (1: off). */
  repeatPenalty?: number;
  /** Token id → bias in [-100, 100]; -100 bans the token. */
  logitBias?: Record<number, number>;
  /** Keep generating past end-of-generation tokens (benchmarks). */
  ignoreEos?: boolean;
}

/** Tools the model may (auto) or must (required) call, each with the grammar of its arguments. */
export interface ToolCalling {
  choice: 'auto' | 'required';
  tools: Array<{ name: string; argumentsGrammar: LlamaGrammar }>;
  /** More than one call per answer. */
  parallel: boolean;
}

export interface GenerationJob {
  promptTokens: Token[];
  /** Upper bound on generated tokens (already clamped to the context left). */
  maxTokens: number;
  sampling: SamplingOptions;
  /** Text that ends generation; it is not emitted. */
  stop: string[];
  /** Token ids that end generation (special-token stop triggers of the chat template). */
  stopTokens: Token[];
  /** Grammar the whole answer must follow (response_format). */
  grammar?: LlamaGrammar;
  tools?: ToolCalling;
  signal: AbortSignal;
}

/** Where generated output goes as it is produced (the route turns it into SSE chunks or a body). */
export interface GenerationSink {
  text(delta: string): void;
  toolCallStart(index: number, call: { id: string; name: string }): void;
  toolCallArguments(index: number, fragment: string): void;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface GenerationTimings {
  /** Prompt tokens evaluated (those not reused from the sequence's cache). */
  promptEvaluated: number;
  /** Prompt tokens whose KV state was reused. */
  promptCached: number;
  /** From start of evaluation to the first generated token, ms. */
  timeToFirstTokenMs: number;
  /** From the first generated token to the last, ms. */
  decodeMs: number;
}

export interface GenerationResult {
  finishReason: FinishReason;
  text: string;
  toolCalls: ToolCall[];
  promptTokens: number;
  completionTokens: number;
  timings: GenerationTimings;
}
