import { z } from 'zod';

/** Ollama's `options` that llmchat honours; others are accepted and ignored, as Ollama ignores unknown ones. */
const options = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    num_predict: z.int().min(-2).optional(),
    num_ctx: z.int().positive().optional(),
    seed: z.int().optional(),
    stop: z.array(z.string().max(1000)).max(16).optional(),
    top_k: z.int().min(0).optional(),
    top_p: z.number().min(0).max(1).optional(),
    min_p: z.number().min(0).max(1).optional(),
    repeat_penalty: z.number().min(0).max(10).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
  })
  .loose();

const keepAlive = z.union([z.string(), z.number()]).optional();
/** "json", or a JSON schema object. */
const format = z
  .union([z.literal('json'), z.record(z.string(), z.unknown()), z.literal('')])
  .optional();

const toolCall = z.object({
  function: z.object({
    name: z.string(),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]),
  }),
});

export const ollamaMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(1_000_000).default(''),
  images: z.array(z.string()).optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_name: z.string().optional(),
});

export const ollamaToolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[\w-]{1,64}$/, 'expected 1–64 letters, digits, _ or -'),
    description: z.string().max(10_000).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const ollamaChatSchema = z.object({
  model: z.string().min(1).max(256),
  messages: z.array(ollamaMessageSchema).max(10_000).default([]),
  tools: z.array(ollamaToolSchema).max(128).optional(),
  format,
  options: options.optional(),
  stream: z.boolean().default(true),
  keep_alive: keepAlive,
  think: z.unknown().optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.int().min(0).max(20).optional(),
});

export const ollamaGenerateSchema = z.object({
  model: z.string().min(1).max(256),
  prompt: z.string().max(1_000_000).default(''),
  system: z.string().max(1_000_000).optional(),
  /** Send the prompt as is, without the chat template. */
  raw: z.boolean().optional(),
  images: z.array(z.string()).optional(),
  format,
  options: options.optional(),
  stream: z.boolean().default(true),
  keep_alive: keepAlive,
  suffix: z.string().optional(),
  template: z.string().optional(),
  /** Token ids an earlier /api/generate answer returned: this prompt continues them. */
  context: z.array(z.int().min(0)).max(1_000_000).optional(),
  think: z.unknown().optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.int().min(0).max(20).optional(),
});

export const ollamaShowSchema = z
  .object({
    model: z.string().min(1).max(256).optional(),
    name: z.string().min(1).max(256).optional(),
  })
  .refine((body) => body.model ?? body.name, { message: 'required', path: ['model'] });

export type OllamaChatRequest = z.infer<typeof ollamaChatSchema>;
export type OllamaGenerateRequest = z.infer<typeof ollamaGenerateSchema>;
export type OllamaOptions = z.infer<typeof options>;
