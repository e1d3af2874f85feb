import { z } from 'zod';

/*
 * Anthropic's Messages API request (https://docs.anthropic.com/en/api/messages), as the
 * official SDK types it (@anthropic-ai/sdk, resources/messages). Fields that do not change
 * what a local model generates (cache_control, metadata, service_tier, thinking on a model
 * that does not think…) are accepted and ignored, as other local servers do; content and
 * tools we cannot honour (images, documents, server tools) are refused by name in
 * to-native.ts.
 */

const textBlock = z.object({
  type: z.literal('text'),
  text: z.string(),
});

const toolUseBlock = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1).max(256),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown(), { error: 'expected the tool input as an object' }),
});

const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([
      z.string(),
      z.array(
        z.discriminatedUnion('type', [
          textBlock,
          z
            .object({
              type: z.enum([
                'image',
                'document',
                'search_result',
                'tool_reference',
                'browser_state',
              ]),
            })
            .loose(),
        ]),
      ),
    ])
    .optional(),
  is_error: z.boolean().optional(),
});

/** An earlier answer's reasoning: kept by clients, dropped here (these models do not think). */
const thinkingBlock = z.object({ type: z.enum(['thinking', 'redacted_thinking']) }).loose();

/** Blocks we know and cannot read (to-native.ts refuses each by name). */
const unreadableBlock = z
  .object({
    type: z.enum([
      'image',
      'document',
      'search_result',
      'server_tool_use',
      'web_search_tool_result',
      'web_fetch_tool_result',
      'code_execution_tool_result',
      'bash_code_execution_tool_result',
      'text_editor_code_execution_tool_result',
      'tool_search_tool_result',
      'container_upload',
    ]),
  })
  .loose();

export const contentBlockSchema = z.discriminatedUnion(
  'type',
  [textBlock, toolUseBlock, toolResultBlock, thinkingBlock, unreadableBlock],
  { error: 'expected content blocks of type text, tool_use or tool_result' },
);

export type ContentBlockInput = z.infer<typeof contentBlockSchema>;

const content = z.union([z.string(), z.array(contentBlockSchema)]);

export const messageParamSchema = z.discriminatedUnion(
  'role',
  [
    z.object({ role: z.literal('user'), content }),
    z.object({ role: z.literal('assistant'), content }),
    z.object({ role: z.literal('system'), content: z.union([z.string(), z.array(textBlock)]) }),
  ],
  { error: 'expected role to be user, assistant or system' },
);

export type MessageParamInput = z.infer<typeof messageParamSchema>;

/** Anthropic's tool names: letters, digits, underscores and dashes, 1 to 128. */
const toolName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,128}$/, 'expected 1-128 letters, digits, underscores or dashes');

const toolSchema = z.union([
  z.object({
    name: toolName,
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown(), {
      error: "expected 'input_schema' as a JSON schema object",
    }),
    type: z.enum(['custom']).nullish(),
  }),
  // A server tool (web search, code execution…): refused by name in to-native.ts.
  z.object({ type: z.string(), name: z.string() }).loose(),
]);

export type ToolInput = z.infer<typeof toolSchema>;

const toolChoiceSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({
      type: z.literal('tool'),
      name: toolName,
      disable_parallel_tool_use: z.boolean().optional(),
    }),
    z.object({ type: z.literal('none') }),
  ],
  { error: 'expected tool_choice of type auto, any, tool or none' },
);

const system = z.union([z.string(), z.array(textBlock)]);

/** Structured outputs: the answer follows a JSON schema. */
const outputConfig = z.object({
  format: z
    .object({
      type: z.literal('json_schema'),
      schema: z.record(z.string(), z.unknown()),
    })
    .nullish(),
  effort: z.string().nullish(),
});

/** What /v1/messages and /v1/messages/count_tokens share. */
const promptShape = {
  model: z.string({ error: 'required: the id of a model from GET /v1/models' }).min(1),
  messages: z.array(messageParamSchema).min(1, { error: 'expected at least one message' }),
  system: system.optional(),
  // No cap: Claude Code with MCP servers sends hundreds.
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  output_config: outputConfig.optional(),
  // Accepted and ignored: a model that does not think answers without thinking.
  thinking: z.unknown().optional(),
};

export const messageCreateRequestSchema = z.object({
  ...promptShape,
  max_tokens: z
    .int({ error: 'required: the most tokens the answer may have, a whole number ≥ 1' })
    .min(1),
  stop_sequences: z.array(z.string().min(1)).max(16).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  stream: z.boolean().optional(),
  metadata: z.object({ user_id: z.string().nullish() }).loose().optional(),
});

export type MessageCreateRequest = z.infer<typeof messageCreateRequestSchema>;

export const countTokensRequestSchema = z.object(promptShape);

export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
