/**
 * llama.cpp grammars built by node-llama-cpp from a JSON schema enforce types,
 * properties, enums, consts, string and array lengths, but not numeric bounds.
 * Bounded integer ranges are common in tool schemas ("days: 1..7"), so they are
 * rewritten as the equivalent enum, which the grammar does enforce.
 *
 * Not enforced (documented): bounds on non-integer numbers, integer ranges wider
 * than MAX_ENUMERATED_RANGE, `pattern`, `multipleOf`, string formats other than
 * date, time and date-time.
 */
const MAX_ENUMERATED_RANGE = 1024;

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerRange(schema: Schema): number[] | undefined {
  if (schema.type !== 'integer') return undefined;
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

/** A copy of `schema` with every small bounded integer range turned into an enum, recursively. */
export function toGrammarSchema(schema: Schema): Schema {
  const range = integerRange(schema);
  if (range) {
    const {
      type: _type,
      minimum: _min,
      maximum: _max,
      exclusiveMinimum: _emin,
      exclusiveMaximum: _emax,
      ...rest
    } = schema;
    return { ...rest, enum: range };
  }
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === 'properties' || key === '$defs' || key === 'definitions') && isSchema(value)) {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          isSchema(sub) ? toGrammarSchema(sub) : sub,
        ]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isSchema(value)) {
      copy[key] = toGrammarSchema(value);
    } else if (
      (key === 'anyOf' || key === 'oneOf' || key === 'prefixItems') &&
      Array.isArray(value)
    ) {
      copy[key] = value.map((sub) => (isSchema(sub) ? toGrammarSchema(sub) : sub));
    } else {
      copy[key] = value;
    }
  }
  return copy;
}
