import { zodResponseFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toGrammarSchema, UnsupportedSchemaError } from './grammar-schema.js';

/** Every keyword used anywhere in a schema. */
function keywordsOf(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keywordsOf(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      found.add(key);
      keywordsOf(inner, found);
    }
  }
  return found;
}

const person = z.object({
  name: z.string().max(12),
  age: z.union([z.string(), z.number().int()]),
  nickname: z.string().nullable(),
  tags: z.array(z.string()).optional(),
  address: z.object({ city: z.string() }).nullable(),
});

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
        choice: { oneOf: [{ enum: [5] }, { type: 'string' }] },
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

  it('rewrites anyOf, nullable and type lists into oneOf (they used to become null)', () => {
    expect(
      toGrammarSchema({
        type: 'object',
        properties: {
          a: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
          b: { type: ['string', 'null'] },
          c: { type: 'string', nullable: true },
          d: { type: ['object', 'null'], properties: { x: { type: 'string' } }, required: ['x'] },
        },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        a: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        b: { type: ['string', 'null'] },
        c: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        d: {
          oneOf: [
            { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] },
            { type: 'null' },
          ],
        },
      },
    });
  });

  it("leaves no anyOf in zod's JSON schema nor in the OpenAI SDK's zodResponseFormat", () => {
    const fromZod = toGrammarSchema(z.toJSONSchema(person) as Record<string, unknown>);
    expect(keywordsOf(fromZod).has('anyOf')).toBe(false);
    // OpenAI's structured outputs want every field required (nullable instead of optional).
    const format = zodResponseFormat(person.required({ tags: true }), 'person');
    const fromOpenAI = toGrammarSchema(format.json_schema.schema as Record<string, unknown>);
    expect(keywordsOf(fromOpenAI).has('anyOf')).toBe(false);
    expect(keywordsOf(fromOpenAI).has('oneOf')).toBe(true);
  });

  it('copies what stands beside anyOf/oneOf into each branch (node-llama-cpp reads only oneOf)', () => {
    expect(
      toGrammarSchema({
        type: 'object',
        description: 'a or b',
        properties: { a: { type: 'string' }, b: { type: 'string' } },
        anyOf: [{ required: ['a'] }, { required: ['b'] }],
      }),
    ).toEqual({
      description: 'a or b',
      oneOf: [
        {
          type: 'object',
          properties: { a: { type: 'string' }, b: { type: 'string' } },
          required: ['a'],
        },
        {
          type: 'object',
          properties: { a: { type: 'string' }, b: { type: 'string' } },
          required: ['b'],
        },
      ],
    });
    // An enum of integers keeps its enum, bounds or not.
    expect(toGrammarSchema({ type: 'integer', enum: [2, 4], minimum: 1, maximum: 5 })).toEqual({
      type: 'integer',
      enum: [2, 4],
      minimum: 1,
      maximum: 5,
    });
  });

  it('moves definitions and their $refs to $defs, and merges an allOf of one', () => {
    expect(
      toGrammarSchema({
        definitions: { Pet: { type: 'string' } },
        type: 'object',
        properties: { pet: { allOf: [{ $ref: '#/definitions/Pet' }], description: 'a pet' } },
      }),
    ).toEqual({
      $defs: { Pet: { type: 'string' } },
      type: 'object',
      properties: { pet: { $ref: '#/$defs/Pet', description: 'a pet' } },
    });
  });

  it.each([
    [{ not: { type: 'string' } }, 'not', '#'],
    [
      { type: 'object', properties: { a: { allOf: [{ type: 'string' }, { minLength: 2 }] } } },
      'allOf',
      '#/properties/a',
    ],
    [{ type: 'object', properties: { a: { enum: ['x', { y: 1 }] } } }, 'enum', '#/properties/a'],
    [{ type: 'array', items: { $ref: '#/properties/x' } }, '$ref', '#/items/$ref'],
    [{ type: 'object', patternProperties: { '^a': { type: 'string' } } }, 'patternProperties', '#'],
  ])('refuses %j naming the keyword and where it is', (schema, keyword, at) => {
    let error: unknown;
    try {
      toGrammarSchema(schema);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsupportedSchemaError);
    expect(error).toMatchObject({ keyword, at });
  });
});
