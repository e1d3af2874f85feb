/**
 * A client's JSON schema rewritten into what node-llama-cpp's JSON-schema
 * grammar enforces: `type` (one or a list of the primitive types), `const`,
 * `enum` (of primitives), `oneOf`, string lengths and date/time formats, object
 * `properties`/`required`/`additionalProperties`, array `items`/`prefixItems`
 * and lengths, and `$ref` into `$defs`. Anything else it does not know it
 * turns into `null` without a word, so:
 *
 * - `anyOf` becomes `oneOf` (a value generated from one branch satisfies both):
 *   zod, Pydantic and the AI SDKs emit `anyOf` for every union and optional field;
 * - a `type` list with object or array in it, and OpenAPI's `nullable`, become
 *   `oneOf` of one schema per type;
 * - `allOf` of one schema is that schema; `definitions` and their `$ref`s move to `$defs`;
 * - small bounded integer ranges become the equivalent enum (bounds are not enforced);
 * - what still cannot be enforced (`not`, `if`, `allOf` of several, object or
 *   array values in `enum`/`const`, `$ref`s elsewhere than `$defs`, …) is refused
 *   with an `UnsupportedSchemaError` naming the keyword and where it is.
 *
 * Not enforced, accepted as documented: bounds on non-integer numbers, integer
 * ranges wider than MAX_ENUMERATED_RANGE, `pattern`, `multipleOf`, `uniqueItems`,
 * string formats other than date, time and date-time.
 */
const MAX_ENUMERATED_RANGE = 1024;

type Schema = Record<string, unknown>;

/** A keyword the grammar cannot enforce, at a JSON pointer into the client's schema. */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
  constructor(
    readonly keyword: string,
    readonly at: string,
    reason: string,
  ) {
    super(`'${keyword}' at ${at} ${reason}`);
  }
}

/** Keywords that change which values are valid and that the grammar cannot express. */
const REFUSED = new Map<string, string>([
  ['not', 'cannot be enforced by a grammar'],
  ['if', 'cannot be enforced by a grammar (if/then/else)'],
  ['then', 'cannot be enforced by a grammar (if/then/else)'],
  ['else', 'cannot be enforced by a grammar (if/then/else)'],
  ['patternProperties', 'cannot be enforced; list the properties instead'],
  ['dependentSchemas', 'cannot be enforced by a grammar'],
  ['dependentRequired', 'cannot be enforced by a grammar'],
  ['unevaluatedProperties', 'cannot be enforced; use additionalProperties'],
  ['unevaluatedItems', 'cannot be enforced; use items'],
  ['contains', 'cannot be enforced by a grammar'],
]);

const PRIMITIVE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/** Which keywords belong to which type, to split a schema with a list of types into one per type. */
const KEYWORDS_OF_TYPE: Record<string, string[]> = {
  object: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems'],
  string: ['minLength', 'maxLength', 'format', 'pattern'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  boolean: [],
  null: [],
};
const TYPED_KEYWORDS = new Set(Object.values(KEYWORDS_OF_TYPE).flat());

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function integerRange(schema: Schema): number[] | undefined {
  if (schema.type !== 'integer' || 'enum' in schema || 'const' in schema) return undefined;
  const lower =
    typeof schema.exclusiveMinimum === 'number'
      ? Math.floor(schema.exclusiveMinimum) + 1
      : typeof schema.minimum === 'number'
        ? Math.ceil(schema.minimum)
        : undefined;
  const upper =
    typeof schema.exclusiveMaximum === 'number'
      ? Math.ceil(schema.exclusiveMaximum) - 1
      : typeof schema.maximum === 'number'
        ? Math.floor(schema.maximum)
        : undefined;
  if (
    lower === undefined ||
    upper === undefined ||
    upper < lower ||
    upper - lower >= MAX_ENUMERATED_RANGE
  ) {
    return undefined;
  }
  return Array.from({ length: upper - lower + 1 }, (_, index) => lower + index);
}

/** The schema rewritten for the grammar (see above); throws `UnsupportedSchemaError`. */
export function toGrammarSchema(schema: Schema, at = '#'): Schema {
  for (const keyword of Object.keys(schema)) {
    const reason = REFUSED.get(keyword);
    if (reason) throw new UnsupportedSchemaError(keyword, at, reason);
  }
  let current = mergeSingleAllOf(schema, at);

  if (current.nullable === true) {
    const { nullable: _nullable, ...rest } = current;
    return toGrammarSchema({ oneOf: [rest, { type: 'null' }] }, at);
  }
  if (Array.isArray(current.type) && current.type.some((type) => !PRIMITIVE_TYPES.has(type))) {
    return toGrammarSchema(splitTypes(current), at);
  }
  if ('anyOf' in current) {
    if ('oneOf' in current) {
      throw new UnsupportedSchemaError('anyOf', at, 'cannot be combined with oneOf');
    }
    const { anyOf, ...rest } = current;
    current = { ...rest, oneOf: anyOf };
  }
  if (Array.isArray(current.oneOf)) current = siblingsIntoBranches(current);
  refuseNonPrimitive(current, at);

  const range = integerRange(current);
  if (range) {
    const {
      type: _type,
      minimum: _min,
      maximum: _max,
      exclusiveMinimum: _emin,
      exclusiveMaximum: _emax,
      ...rest
    } = current;
    return { ...rest, enum: range };
  }

  const copy: Schema = {};
  for (const [key, value] of Object.entries(current)) {
    const inside = `${at}/${key}`;
    if ((key === 'properties' || key === '$defs' || key === 'definitions') && isSchema(value)) {
      copy[key === 'definitions' ? '$defs' : key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          isSchema(sub) ? toGrammarSchema(sub, `${inside}/${name}`) : sub,
        ]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isSchema(value)) {
      copy[key] = toGrammarSchema(value, inside);
    } else if ((key === 'oneOf' || key === 'prefixItems') && Array.isArray(value)) {
      copy[key] = value.map((sub, index) =>
        isSchema(sub) ? toGrammarSchema(sub, `${inside}/${index}`) : sub,
      );
    } else if (key === '$ref') {
      copy[key] = refInDefs(value, inside);
    } else {
      copy[key] = value;
    }
  }
  return copy;
}

/** Keywords that describe or hold definitions, and so stay beside a `oneOf`. */
const BESIDE_ONE_OF = new Set([
  'oneOf',
  'description',
  'title',
  '$defs',
  'definitions',
  '$schema',
  '$id',
]);

/**
 * node-llama-cpp reads only `oneOf` when it is there, so what stands beside it
 * (`{type: object, properties, anyOf: [{required: [a]}, {required: [b]}]}`) is
 * copied into every branch, where it applies anyway.
 */
function siblingsIntoBranches(schema: Schema): Schema {
  const siblings = Object.entries(schema).filter(([key]) => !BESIDE_ONE_OF.has(key));
  if (siblings.length === 0) return schema;
  const kept = Object.fromEntries(Object.entries(schema).filter(([key]) => BESIDE_ONE_OF.has(key)));
  const branches = (schema.oneOf as unknown[]).map((branch) =>
    isSchema(branch) ? { ...Object.fromEntries(siblings), ...branch } : branch,
  );
  return { ...kept, oneOf: branches };
}

/** `allOf` of one schema is that schema; of several it cannot be enforced. */
function mergeSingleAllOf(schema: Schema, at: string): Schema {
  if (!('allOf' in schema)) return schema;
  const { allOf, ...rest } = schema;
  if (!Array.isArray(allOf) || allOf.length !== 1 || !isSchema(allOf[0])) {
    throw new UnsupportedSchemaError(
      'allOf',
      at,
      'of several schemas cannot be enforced; merge them into one',
    );
  }
  return { ...allOf[0], ...rest };
}

/** `{type: [object, null], properties…}` → `oneOf` of one schema per type, each with its own keywords. */
function splitTypes(schema: Schema): Schema {
  const types = schema.type as string[];
  const shared = Object.fromEntries(
    Object.entries(schema).filter(([key]) => key !== 'type' && !TYPED_KEYWORDS.has(key)),
  );
  const { description, title } = shared;
  return {
    ...(description !== undefined ? { description } : {}),
    ...(title !== undefined ? { title } : {}),
    oneOf: types.map((type) => ({
      ...shared,
      type,
      ...Object.fromEntries(
        (KEYWORDS_OF_TYPE[type] ?? [])
          .filter((key) => key in schema)
          .map((key) => [key, schema[key]]),
      ),
    })),
  };
}

function refuseNonPrimitive(schema: Schema, at: string): void {
  if (Array.isArray(schema.enum) && !schema.enum.every(isPrimitive)) {
    throw new UnsupportedSchemaError(
      'enum',
      at,
      'lists objects or arrays; only strings, numbers, booleans and null can be enforced',
    );
  }
  if ('const' in schema && !isPrimitive(schema.const)) {
    throw new UnsupportedSchemaError(
      'const',
      at,
      'is an object or array; only strings, numbers, booleans and null can be enforced',
    );
  }
}

/** `$ref`s into `$defs` (or `definitions`, which move there); any other cannot be followed. */
function refInDefs(ref: unknown, at: string): string {
  if (typeof ref === 'string') {
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (match) return `#/$defs/${match[2]}`;
  }
  throw new UnsupportedSchemaError(
    '$ref',
    at,
    `${JSON.stringify(ref)} cannot be followed; point $refs at #/$defs/<name>`,
  );
}
