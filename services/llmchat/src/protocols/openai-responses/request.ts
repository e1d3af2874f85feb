import { z } from 'zod';

/*
 * POST /v1/responses, as the OpenAI API reference and the `openai` client's
 * types (resources/responses/responses.d.ts, ResponseCreateParams) describe it:
 * the text-and-functions subset a local model can honour. Input items and
 * tools of other types are refused by name in to-native.ts, not here, so the
 * error can say what to send instead.
 */

/** Text parts: `input_text` from users, `output_text` in replayed assistant messages. */
const textPart = z
  .object({ type: z.enum(['input_text', 'output_text']), text: z.string() })
  .loose();
const otherPart = z
  .object({ type: z.enum(['input_image', 'input_file', 'input_audio', 'refusal']) })
  .loose();

const messageContent = z.union([
  z.string(),
  z.array(
    z.discriminatedUnion('type', [textPart, otherPart], {
      error: 'expected content parts of type "input_text" or "output_text"',
    }),
  ),
]);

/** A message item; `type` may be left out, as the API allows (EasyInputMessage). */
const messageItem = z
  .object({
    type: z.literal('message').optional(),
    role: z.enum(['user', 'assistant', 'system', 'developer'], {
      error: 'expected role to be one of user, assistant, system, developer',
    }),
    content: messageContent,
    id: z.string().optional(),
    status: z.string().optional(),
  })
  .loose();

const functionCallItem = z
  .object({
    type: z.literal('function_call'),
    call_id: z.string().min(1).max(256),
    name: z.string().min(1),
    arguments: z.string(),
    id: z.string().optional(),
    status: z.string().optional(),
  })
  .loose();

const functionCallOutputItem = z
  .object({
    type: z.literal('function_call_output'),
    call_id: z.string().min(1).max(256),
    output: z.union([z.string(), z.array(textPart)]),
    id: z.string().optional(),
    status: z.string().optional(),
  })
  .loose();

/** Item types the engine cannot replay (reasoning, built-in tool calls…): refused by name. */
const otherItem = z.object({ type: z.string() }).loose();

export const inputItemSchema = z.union([
  messageItem,
  functionCallItem,
  functionCallOutputItem,
  otherItem,
]);

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().min(1).max(64),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
/** Built-in tools (web_search, file_search, code_interpreter…): refused by name. */
const otherTool = z.object({ type: z.string() }).loose();

const textFormat = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('text') }),
    z.object({ type: z.literal('json_object') }),
    z.object({
      type: z.literal('json_schema'),
      name: z.string().min(1).max(64),
      schema: z.record(z.string(), z.unknown()),
      description: z.string().optional(),
      strict: z.boolean().nullish(),
    }),
  ],
  { error: 'expected text.format.type to be one of text, json_object, json_schema' },
);

/** OpenAI's metadata: up to 16 pairs, keys up to 64 characters, values up to 512. */
export const metadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((pairs) => Object.keys(pairs).length <= 16, 'at most 16 key-value pairs');

export const responseCreateRequestSchema = z
  .object({
    model: z.string().min(1, 'name the model: see GET /v1/models'),
    input: z.union([z.string(), z.array(inputItemSchema)]).optional(),
    instructions: z.string().nullish(),
    previous_response_id: z.string().nullish(),
    conversation: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
    store: z.boolean().nullish(),
    background: z.boolean().nullish(),
    stream: z.boolean().nullish(),
    tools: z.array(z.union([functionTool, otherTool])).optional(),
    tool_choice: z
      .union([
        z.enum(['none', 'auto', 'required']),
        z.object({ type: z.literal('function'), name: z.string() }),
        z.object({ type: z.string() }).loose(),
      ])
      .optional(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z.object({ format: textFormat.optional() }).loose().nullish(),
    max_output_tokens: z.number().int().min(1).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    metadata: metadataSchema.nullish(),
    truncation: z.enum(['auto', 'disabled']).nullish(),
    include: z.array(z.string()).nullish(),
    user: z.string().optional(),
    safety_identifier: z.string().optional(),
    prompt_cache_key: z.string().optional(),
    service_tier: z.string().nullish(),
    reasoning: z.object({}).loose().nullish(),
    max_tool_calls: z.number().int().min(1).nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    /** An extension, as on chat completions: the same seed, the same answer. */
    seed: z.number().int().nullish(),
  })
  .loose();

export type ResponseCreateRequest = z.infer<typeof responseCreateRequestSchema>;
export type InputItem = z.infer<typeof inputItemSchema>;
export type MessageItem = z.infer<typeof messageItem>;
export type FunctionCallItem = z.infer<typeof functionCallItem>;
export type FunctionCallOutputItem = z.infer<typeof functionCallOutputItem>;

/** POST /v1/conversations (ConversationCreateParams). */
export const conversationCreateSchema = z
  .object({
    items: z.array(inputItemSchema).max(20, 'at most 20 items at a time').nullish(),
    metadata: metadataSchema.nullish(),
  })
  .loose();

/** POST /v1/conversations/{id} (ConversationUpdateParams): the metadata replaced. */
export const conversationUpdateSchema = z.object({ metadata: metadataSchema.nullable() }).loose();

/** POST /v1/conversations/{id}/items (ItemCreateParams). */
export const conversationItemsCreateSchema = z
  .object({
    items: z
      .array(inputItemSchema)
      .min(1, 'send at least one item')
      .max(20, 'at most 20 items at a time'),
  })
  .loose();
