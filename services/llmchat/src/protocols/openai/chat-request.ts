import { z } from 'zod';

/*
 * The request bodies, as the OpenAI API reference describes them
 * (https://platform.openai.com/docs/api-reference/chat/create). Parameters we
 * accept and ignore are listed; parameters that would change the answer in a
 * way we cannot honour are rejected by name (to-engine.ts).
 */

const textPart = z.object({ type: z.literal('text'), text: z.string() });

/** Text content: a string or an array of text parts (images and audio are refused by name). */
const content = z.union([
  z.string(),
  z.array(
    z.discriminatedUnion(
      'type',
      [
        textPart,
        z.object({ type: z.enum(['image_url', 'input_audio', 'file', 'refusal']) }).loose(),
      ],
      {
        error: 'expected content parts of type "text"',
      },
    ),
  ),
]);

const toolCallSchema = z.object({
  id: z.string().max(256),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const messageSchema = z.discriminatedUnion(
  'role',
  [
    z.object({ role: z.enum(['system', 'developer']), content, name: z.string().optional() }),
    z.object({ role: z.literal('user'), content, name: z.string().optional() }),
    z.object({
      role: z.literal('assistant'),
      content: content.nullish(),
      name: z.string().optional(),
      tool_calls: z.array(toolCallSchema).optional(),
      refusal: z.string().nullish(),
    }),
    z.object({ role: z.literal('tool'), content, tool_call_id: z.string() }),
  ],
  { error: 'expected role to be one of system, developer, user, assistant, tool' },
);

export type MessageInput = z.infer<typeof messageSchema>;

/** OpenAI function names: letters, digits, underscores and dashes, at most 64. */
const functionName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, underscores or dashes');

const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: functionName,
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: functionName }) }),
]);

const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z
        .string()
        .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, underscores or dashes'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish();

/** Sampling and length parameters shared by chat and legacy completions. */
export const samplingShape = {
  model: z.string({ error: 'required: the id of a model from GET /v1/models' }).min(1),
  max_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  top_k: z.int().min(0).nullish(),
  seed: z
    .int()
    .min(-(2 ** 53))
    .max(2 ** 53)
    .nullish(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d+$/, 'expected token ids as keys'), z.number().min(-100).max(100))
    .nullish(),
  // Choices from one prompt; more than the model's sequences (LLMCHAT_PARALLEL) is a 400 naming it.
  n: z.int().min(1).max(128).nullish(),
  user: z.string().optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  ignore_eos: z.boolean().optional(),
  // Accepted and ignored: they do not change what is generated.
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.string().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().min(0).max(20).nullish(),
};

export const chatCompletionRequestSchema = z.object({
  ...samplingShape,
  messages: z.array(messageSchema).min(1, { error: 'expected at least one message' }),
  max_completion_tokens: z.int().min(1).nullish(),
  tools: z.array(toolSchema).max(128).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormatSchema.nullish(),
  // Refused by name when present (to-engine.ts): kept here so the message can name them.
  functions: z.unknown().optional(),
  function_call: z.unknown().optional(),
  audio: z.unknown().optional(),
  modalities: z.array(z.string()).nullish(),
  prediction: z.unknown().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** Prompts one legacy completion request may carry (each is a generation of its own). */
export const MAX_PROMPTS = 16;

export const completionRequestSchema = z.object({
  ...samplingShape,
  // A text, token ids, or a list of either: one choice per prompt, in order.
  prompt: z.union([
    z.string(),
    z
      .array(z.string())
      .min(1)
      .max(MAX_PROMPTS, { error: `at most ${MAX_PROMPTS} prompts` }),
    z.array(z.int().min(0)).min(1),
    z
      .array(z.array(z.int().min(0)).min(1))
      .min(1)
      .max(MAX_PROMPTS, { error: `at most ${MAX_PROMPTS} prompts` }),
  ]),
  // The legacy form: how many alternatives (0–20) to list beside each token's own log-probability.
  logprobs: z.int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: z.int().nullish(),
});

export type CompletionRequest = z.infer<typeof completionRequestSchema>;
