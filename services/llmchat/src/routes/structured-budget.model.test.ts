import { Ajv } from 'ajv';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  STORIES_MODEL,
  SYNTH_MODEL,
  startLlmchat,
  type TestServer,
} from '../__fixtures__/llmchat-server.js';

/*
 * Structured output cut by the token limit still parses: when the budget left only
 * covers closing what is open, generation appends the closing (strings, required
 * properties with their smallest values, objects, arrays) instead of sampling on.
 * finish_reason stays "length" so clients know it was cut.
 */

const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    pets: { type: 'array', items: { type: 'string' } },
    home: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
  required: ['name', 'age', 'home'],
};
const validatePerson = new Ajv({ strict: false }).compile(person);
const BUDGETS = [6, 20, 60];
const messages = [{ role: 'user' as const, content: 'Describe a person as JSON.' }];

for (const [label, path] of [
  ['stories260K', STORIES_MODEL],
  ['synth-30M', SYNTH_MODEL],
] as const) {
  describe(`JSON cut by the token limit still parses, on ${label}`, () => {
    let server: TestServer;
    let model: string;
    beforeAll(async () => {
      server = await startLlmchat({ LLMCHAT_MODEL: path });
      model = path.split('/').pop()?.replace('.gguf', '') ?? '';
    });
    afterAll(() => server.close());

    it.each(BUDGETS)('json_object at max_tokens %i', async (budget) => {
      for (const seed of [1, 2]) {
        const answer = await server.openai.chat.completions.create({
          model,
          messages,
          max_tokens: budget,
          seed,
          response_format: { type: 'json_object' },
        });
        const content = answer.choices[0]?.message.content ?? '';
        expect(() => JSON.parse(content), content).not.toThrow();
        expect(['length', 'stop']).toContain(answer.choices[0]?.finish_reason);
      }
    });

    it.each(BUDGETS)('json_schema with required fields at max_tokens %i', async (budget) => {
      const answer = await server.openai.chat.completions.create({
        model,
        messages,
        max_tokens: budget,
        seed: 3,
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person } },
      });
      const content = answer.choices[0]?.message.content ?? '';
      const value: unknown = JSON.parse(content);
      expect(validatePerson(value), `${content} ${JSON.stringify(validatePerson.errors)}`).toBe(
        true,
      );
      if (budget === 6) expect(answer.choices[0]?.finish_reason).toBe('length');
    });

    it.each(BUDGETS)(
      'Ollama format "json" at num_predict %i, done_reason length',
      async (budget) => {
        const ollama = new Ollama({ host: server.url });
        const answer = await ollama.chat({
          model,
          messages,
          format: 'json',
          stream: false,
          options: { num_predict: budget, seed: 4 },
        });
        expect(() => JSON.parse(answer.message.content), answer.message.content).not.toThrow();
        if (answer.done_reason === 'length')
          expect(answer.eval_count).toBeGreaterThanOrEqual(budget);
      },
    );

    it.each(BUDGETS)('tool-call arguments at max_tokens %i', async (budget) => {
      const answer = await server.openai.chat.completions.create({
        model,
        messages,
        max_tokens: budget,
        seed: 5,
        tools: [{ type: 'function', function: { name: 'save_person', parameters: person } }],
        tool_choice: 'required',
      });
      const call = answer.choices[0]?.message.tool_calls?.[0];
      // One tool, required: its name is given, only the arguments are generated.
      expect(call?.type).toBe('function');
      const args = call?.type === 'function' ? call.function.arguments : '';
      const value: unknown = JSON.parse(args);
      expect(validatePerson(value), args).toBe(true);
    });
  });
}
