import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from './catalogue.js';
import { parseRequest } from './validate.js';

const item = z.union([
  z.discriminatedUnion('role', [z.object({ role: z.literal('user'), content: z.string() })]),
  z.discriminatedUnion('type', [z.object({ type: z.literal('call'), name: z.string() })]),
]);
const schema = z.object({ input: z.union([z.string(), z.array(item)]) });

function refusal(value: unknown): { param: string | null; message: string } {
  try {
    parseRequest(schema, value);
  } catch (error) {
    if (error instanceof ApiError) return { param: error.param, message: error.message };
  }
  throw new Error('parsed');
}

describe('parseRequest through unions', () => {
  it('names the field inside the one branch that applies', () => {
    expect(refusal({ input: [{ role: 'user' }] })).toMatchObject({ param: 'input.0.content' });
    expect(refusal({ input: [{ type: 'call', name: 5 }] })).toMatchObject({
      param: 'input.0.name',
    });
  });

  it('keeps the union where no branch applies, and names the types every branch wanted', () => {
    expect(refusal({ input: [{ role: 'robot' }] })).toMatchObject({ param: 'input.0' });
    expect(refusal({ input: 5 })).toEqual({
      param: 'input',
      message: "Invalid request body: 'input': expected string or array.",
    });
  });
});
