import { z } from 'zod';

/*
 * POST /v1/decisions, as the `openai` client 7.x types it (resources/decisions.d.ts,
 * DecisionCreateParams): an input, and 1–400 questions of type predicate, choice or score.
 * Images parse here and become refusals in to-native.ts (a text model can't be asked about
 * them); prompt-cache options and safety_identifier are accepted and ignored (prefix reuse
 * is automatic).
 */

const breakpoint = z.object({ mode: z.literal('explicit') }).nullish();
const inputText = z.object({
  type: z.literal('input_text'),
  text: z.string(),
  prompt_cache_breakpoint: breakpoint,
});
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z.string(),
  detail: z.enum(['low', 'high', 'auto', 'original']).nullish(),
  prompt_cache_breakpoint: breakpoint,
});
const jsonObject = z.record(z.string(), z.unknown());
const inputJson = z.object({
  type: z.literal('input_json'),
  data: z.union([jsonObject, z.array(jsonObject)]),
});

const parts = <T extends z.ZodType>(union: T) => z.union([z.string(), z.array(union)]);
const userParts = z.discriminatedUnion('type', [inputText, inputImage, inputJson], {
  error: 'expected a part of type input_text, input_image or input_json',
});
const textParts = z.discriminatedUnion('type', [inputText], {
  error: 'expected a part of type input_text',
});
const assistantParts = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('output_text'), text: z.string() }),
    z.object({ type: z.literal('refusal'), refusal: z.string() }),
  ],
  { error: 'expected a part of type output_text or refusal' },
);

const message = z.discriminatedUnion(
  'role',
  [
    z.object({
      role: z.literal('user'),
      type: z.literal('message').optional(),
      content: parts(userParts),
    }),
    z.object({
      role: z.enum(['developer', 'system']),
      type: z.literal('message').optional(),
      content: parts(textParts),
    }),
    z.object({
      role: z.literal('assistant'),
      type: z.literal('message').optional(),
      content: parts(assistantParts),
      phase: z.enum(['commentary', 'final_answer']).nullish(),
    }),
  ],
  { error: 'expected role to be one of user, developer, system, assistant' },
);

const itemFields = {
  call_id: z.string().min(1).max(256),
  id: z.string().nullish(),
  status: z.enum(['in_progress', 'completed', 'incomplete']).nullish(),
};
const toolItem = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('function_call'),
      name: z.string().min(1),
      arguments: z.string(),
      namespace: z.string().nullish(),
      ...itemFields,
    }),
    z.object({
      type: z.literal('function_call_output'),
      output: parts(z.discriminatedUnion('type', [inputText, inputImage])),
      ...itemFields,
    }),
    z.object({
      type: z.literal('custom_tool_call'),
      name: z.string().min(1),
      input: z.string(),
      namespace: z.string().nullish(),
      ...itemFields,
    }),
    z.object({
      type: z.literal('custom_tool_call_output'),
      output: parts(z.discriminatedUnion('type', [inputText, inputImage])),
      ...itemFields,
    }),
  ],
  {
    error:
      'expected a message (with a role) or an item of type function_call, function_call_output, custom_tool_call or custom_tool_call_output',
  },
);

/** A message (with a role), or a tool call or its output. */
const inputItem = z.union([message, toolItem], {
  error:
    'expected a message (role user, developer, system or assistant, with content) or an item of type function_call, function_call_output, custom_tool_call or custom_tool_call_output',
});

const questionParts = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('input_text'), text: z.string() }),
    inputImage.omit({ prompt_cache_breakpoint: true }),
    inputJson,
  ],
  { error: 'expected a part of type input_text, input_image or input_json' },
);
const instructions = z.union([z.string().min(1), z.array(questionParts).min(1)]);
const name = z.string().min(1).max(128).optional();

const question = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('predicate'), instructions, name }),
    z.object({
      type: z.literal('choice'),
      instructions,
      name,
      choices: z
        .array(
          z.object({
            value: z.union([z.string().min(1).max(1000), z.boolean()]),
            description: z.string().max(10_000).optional(),
          }),
        )
        .min(2, 'expected 2 to 255 choices')
        .max(255, 'expected 2 to 255 choices'),
    }),
    z.object({
      type: z.literal('score'),
      instructions,
      name,
      levels: z
        .array(
          z.object({
            label: z.string().min(1).max(1000),
            description: z.string().max(10_000).optional(),
          }),
        )
        .min(2, 'expected 2 to 10 levels')
        .max(10, 'expected 2 to 10 levels'),
    }),
  ],
  { error: 'expected question type to be one of predicate, choice, score' },
);

export const decisionCreateRequestSchema = z.object({
  model: z.string().min(1, 'name the model: see GET /v1/models'),
  input: z.union([z.string(), z.array(inputItem).min(1, 'expected at least one input item')]),
  questions: z
    .array(question)
    .min(1, 'expected 1 to 400 questions')
    .max(400, 'expected 1 to 400 questions'),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_options: z
    .object({
      mode: z.enum(['implicit', 'explicit']).nullish(),
      ttl: z.literal('30m').optional(),
    })
    .nullish(),
  safety_identifier: z.string().max(64).nullish(),
});

export type DecisionCreateRequest = z.infer<typeof decisionCreateRequestSchema>;
export type DecisionQuestion = DecisionCreateRequest['questions'][number];
export type DecisionInputItem = Exclude<DecisionCreateRequest['input'], string>[number];
