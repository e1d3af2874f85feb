import type { Token } from 'node-llama-cpp';

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

/**
 * What the whole answer must follow, as data: the engine compiles it to a
 * grammar (and caches it). `origin` says where the schema came from in the
 * request, for the error that names it.
 */
export type Constraint =
  | { kind: 'json' }
  | { kind: 'json_schema'; schema: Record<string, unknown>; origin: string };

/** A tool the model may call: its arguments follow `parameters` (a JSON schema from `origin`). */
export interface CallableTool {
  name: string;
  parameters: Record<string, unknown>;
  origin: string;
}

/** Tools the model may (auto) or must (required) call. */
export interface ToolCalling {
  choice: 'auto' | 'required';
  tools: CallableTool[];
  /** More than one call per answer. */
  parallel: boolean;
}

export interface GenerationJob {
  promptTokens: Token[];
  /** Read each generated token's log-probability, with the `top` likeliest alternatives (0–20). */
  logprobs?: { top: number };
  /** Upper bound on generated tokens (already clamped to the context left). */
  maxTokens: number;
  sampling: SamplingOptions;
  /** Text that ends generation; it is not emitted. */
  stop: string[];
  /** Token ids that end generation (special-token stop triggers of the chat template). */
  stopTokens: Token[];
  /** What the whole answer must follow (response_format, Ollama's format). */
  constraint?: Constraint;
  tools?: ToolCalling;
}

/** Where generated output goes as it is produced (the generation layer turns it into events). */
export interface GenerationSink {
  text(delta: string): void;
  /** A generated token's log-probability (only when the job asked for them). */
  logprob?(entry: TextLogprob): void;
  toolCallStart(index: number, call: { id: string; name: string }): void;
  toolCallArguments(index: number, fragment: string): void;
}

/** A sink that drops the output (a caller that reads only the result). */
export const SILENT_SINK: GenerationSink = {
  text: () => {},
  toolCallStart: () => {},
  toolCallArguments: () => {},
};

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
  /** With `job.logprobs`: every generated token's, in order, with its text. */
  logprobs?: TextLogprob[];
  /** The stop string that ended the answer (the request's or the chat template's), if one did. */
  stopSequence?: string;
  text: string;
  /** The sampled tokens, in order. */
  outputTokens: Token[];
  toolCalls: ToolCall[];
  promptTokens: number;
  completionTokens: number;
  /** One of several choices whose prompt the first choice counts (usage counts it once). */
  sharedPrompt?: boolean;
  timings: GenerationTimings;
}

/** Output as it is generated, in order; a protocol converter turns each into wire chunks. */
export type GenerationEvent =
  | { type: 'text'; delta: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_arguments'; index: number; fragment: string }
  | { type: 'logprobs'; entries: TextLogprob[] };

/** A generated token's log-probability as protocols report it: with its text. */
export interface TextLogprob {
  token: Token;
  /** The token's text (special tokens as their text; a split character as U+FFFD). */
  text: string;
  logprob: number;
  top: Array<{ token: Token; text: string; logprob: number }>;
}

/**
 * Prompts whose answers are weighed, not generated (the Decisions API): each question's
 * prompt (they share their beginning: the input) and the token sequences of its answers,
 * each ending where the model's turn would end.
 */
export interface ScoringJob {
  questions: Array<{ promptTokens: Token[]; answers: Token[][] }>;
}

export interface ScoringResult {
  /** Per question, per answer: log P(answer | prompt), the sum over its tokens. */
  logprobs: number[][];
  /** Prompt and answer tokens the scores were read over (each question's whole prompt counted). */
  inputTokens: number;
  /** Of those, tokens whose KV state was reused rather than evaluated. */
  cachedTokens: number;
  /** Tokens decoded: prompts' unshared tails and answers' tokens but the last. */
  evaluatedTokens: number;
  /** From the turn to the last score, ms. */
  scoreMs: number;
}
