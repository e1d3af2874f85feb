import { describe, expect, it } from 'vitest';
import { toGrammarSchema } from './grammar-schema.js';

describe('toGrammarSchema', () => {
  it('turns bounded integer ranges into enums, everywhere in the schema', () => {
    expect(
      toGrammarSchema({
        type: 'object',
        properties: {
          days: { type: 'integer', minimum: 1, maximum: 3, description: 'how many' },
          hours: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 3 },
          list: { type: 'array', items: { type: 'integer', minimum: -1, maximum: 0 } },
          choice: { anyOf: [{ type: 'integer', minimum: 5, maximum: 5 }, { type: 'string' }] },
        },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        days: { enum: [1, 2, 3], description: 'how many' },
        hours: { enum: [1, 2] },
        list: { type: 'array', items: { enum: [-1, 0] } },
        choice: { anyOf: [{ enum: [5] }, { type: 'string' }] },
      },
    });
  });

  it('leaves what it cannot enumerate alone', () => {
    const schema = {
      type: 'object',
      properties: {
        open: { type: 'integer', minimum: 0 },
        wide: { type: 'integer', minimum: 0, maximum: 1_000_000 },
        real: { type: 'number', minimum: 0, maximum: 1 },
      },
    };
    expect(toGrammarSchema(schema)).toEqual(schema);
  });
});
