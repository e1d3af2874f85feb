import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { toGrammarSchema } from './grammar-schema.js';
import { JsonCloser } from './json-closer.js';

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer', minimum: 1 },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    address: {
      type: 'object',
      properties: { city: { type: 'string', minLength: 2 }, zip: { type: 'string' } },
      required: ['city'],
    },
    ok: { type: 'boolean' },
    city: { type: 'string', enum: ['Paris', 'Rome'] },
  },
  required: ['name', 'age', 'address'],
};

const full =
  '{"name": "Ada \\"A\\" L\\u00e9", "tags": ["x", "y"], "address": {"zip": "75", "city": "Paris"}, "ok": true, "city": "Rome", "age": 36}';
const validate = new Ajv({ strict: false }).compile(schema);

/** The prefix, closed. */
function close(prefix: string, with_ = schema): string {
  const closer = new JsonCloser(with_);
  closer.push(prefix);
  return prefix + closer.closing();
}

describe('JsonCloser', () => {
  it('completes every prefix of a JSON answer into JSON that has the required fields', () => {
    for (let cut = 0; cut <= full.length; cut++) {
      const closed = close(full.slice(0, cut));
      let value: unknown;
      expect(
        () => {
          value = JSON.parse(closed);
        },
        `prefix ${JSON.stringify(full.slice(0, cut))} closed as ${closed}`,
      ).not.toThrow();
      expect(validate(value), `${closed}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('adds nothing to a complete value, and gives the smallest value for nothing at all', () => {
    expect(close(full)).toBe(full);
    expect(JSON.parse(close(''))).toEqual({ name: '', age: 1, address: { city: 'aa' } });
  });

  it('without a schema, balances any JSON', () => {
    const any = '{"a": [1, 2.5e-3, {"b": "c\\n"}, null, tru';
    for (let cut = 0; cut <= any.length; cut++) {
      const closer = new JsonCloser(undefined);
      closer.push(any.slice(0, cut));
      expect(() => JSON.parse(any.slice(0, cut) + closer.closing())).not.toThrow();
    }
  });

  it('leaves text that is not JSON alone (a tool call opening)', () => {
    const closer = new JsonCloser(schema);
    closer.push('<tool_call>');
    expect(closer.closing()).toBe('');
  });

  it('closes schemas as Pydantic and zod write them (optional lists, unions, dates, strict objects)', () => {
    const pydantic = {
      type: 'object',
      additionalProperties: false,
      $defs: {
        Item: {
          type: 'object',
          properties: { sku: { type: 'string' }, when: { type: 'string', format: 'date' } },
          required: ['sku', 'when'],
          additionalProperties: false,
        },
      },
      properties: {
        items: {
          anyOf: [
            { type: 'array', items: { $ref: '#/$defs/Item' }, minItems: 1 },
            { type: 'null' },
          ],
        },
        kind: { anyOf: [{ type: 'string', enum: ['retail', 'wholesale'] }, { type: 'null' }] },
        total: { type: 'number' },
      },
      required: ['items', 'kind', 'total'],
    };
    const strict = new Ajv({ strict: false }).compile(pydantic);
    const text =
      '{"items": [{"sku": "A-1", "when": "2026-11-30"}, {"when": "2026-12-01", "sku": "B"}], "kind": "wholesale", "total": 12.5}';
    const translated = toGrammarSchema(pydantic);
    for (let cut = 0; cut <= text.length; cut++) {
      const closer = new JsonCloser(
        translated,
        translated.$defs as Record<string, Record<string, unknown>>,
      );
      closer.push(text.slice(0, cut));
      const closed = text.slice(0, cut) + closer.closing();
      const value: unknown = JSON.parse(closed);
      expect(strict(value), `${closed}: ${JSON.stringify(strict.errors)}`).toBe(true);
    }
  });
});
