import { Ajv } from 'ajv';
import { type Llama, LlamaGrammar } from 'node-llama-cpp';
import { InvalidSchemaError } from './engine-errors.js';
import { BoundedCache } from './grammar-cache.js';
import { toGrammarSchema, UnsupportedSchemaError } from './grammar-schema.js';
import type { Constraint, ToolCalling } from './types.js';

/**
 * Compiled grammars kept per process, by count and by the size of their text
 * (a schema may take 256 KB and its grammar more): clients tend to send the
 * same few schemas again and again.
 */
export const GRAMMAR_CACHE_ENTRIES = 128;
export const GRAMMAR_CACHE_BYTES = 32 * 2 ** 20;

/**
 * The largest schema accepted: real schemas nest a few levels and take a few KB, while
 * the checker and the grammar converter recurse, so a pathological one would exhaust
 * the stack (or the CPU) before saying anything useful.
 */
export const MAX_SCHEMA_DEPTH = 64;
export const MAX_SCHEMA_BYTES = 256 * 1024;

/** After a tool call: open another one, or end (the empty alternative lets end-of-generation through). */
const CALL_OR_END_GRAMMAR = 'root ::= ("<tool_call>")?';

/** The JSON a grammar produces, for closing it when the token budget runs out (json-closer.ts). */
export interface JsonShape {
  /** The schema as the grammar enforces it; undefined: any JSON value. */
  schema: Record<string, unknown> | undefined;
  defs: Record<string, Record<string, unknown>>;
}

/** node-llama-cpp's JSON grammar (json_object, Ollama's "json") produces an object. */
const JSON_OBJECT_SHAPE: JsonShape = { schema: { type: 'object' }, defs: {} };

/** A job's constraints as grammars, ready for the sampler. */
export interface CompiledConstraints {
  answer?: LlamaGrammar;
  /** Set when the answer is JSON. */
  answerShape?: JsonShape;
  tools?: {
    choice: ToolCalling['choice'];
    parallel: boolean;
    tools: Array<{ name: string; arguments: LlamaGrammar; shape: JsonShape }>;
    /** One of the offered names (absent with a single tool: its name is forced). */
    names?: LlamaGrammar;
    callOrEnd: LlamaGrammar;
  };
}

/**
 * Turns constraints given as data (JSON, a JSON schema, tool schemas) into
 * llama.cpp grammars, once per distinct schema. A schema is checked first
 * against the JSON Schema meta-schema, its $refs and patterns: the grammar
 * converter would otherwise turn a broken schema into a grammar for something
 * else, silently. Grammars belong to the `Llama` instance, so one compiler
 * serves every model of the process.
 */
export class ConstraintCompiler {
  /**
   * Checks schemas against the meta-schema only. Compiling each client schema
   * into a validator (`ajv.compile`) would keep generated code for every
   * schema ever seen (≈ 30 KB each, measured), which `removeSchema` does not
   * give back; strict off: unknown keywords are allowed, as OpenAI allows them.
   */
  private readonly schemas = new Ajv({ strict: false, validateFormats: false });
  private readonly cache = new BoundedCache<Promise<LlamaGrammar>>(
    GRAMMAR_CACHE_ENTRIES,
    GRAMMAR_CACHE_BYTES,
  );
  /** The translated schema of each compiled one, for closing cut JSON (json-closer.ts). */
  private readonly shapes = new BoundedCache<JsonShape>(GRAMMAR_CACHE_ENTRIES, GRAMMAR_CACHE_BYTES);

  /** Each schema object's cache key, serialized once: the size check, the grammar and the shape all need it. */
  private readonly keys = new WeakMap<object, string>();

  private keyOf(schema: Record<string, unknown>): string {
    let key = this.keys.get(schema);
    if (key === undefined) {
      key = `schema:${JSON.stringify(schema)}`;
      this.keys.set(schema, key);
    }
    return key;
  }

  /** The shape of a schema `compile` has compiled (translated once, there). */
  private shapeOf(schema: Record<string, unknown>): JsonShape {
    if (Object.keys(schema).length === 0) return { schema: undefined, defs: {} };
    return this.shapes.get(this.keyOf(schema)) ?? shapeFrom(toGrammarSchema(schema));
  }

  constructor(private readonly llama: Llama) {}

  async compile(
    constraint: Constraint | undefined,
    tools: ToolCalling | undefined,
  ): Promise<CompiledConstraints> {
    const constrained = constraint ? await this.answerGrammar(constraint) : undefined;
    const answerShape = constraint
      ? constraint.kind === 'json'
        ? JSON_OBJECT_SHAPE
        : this.shapeOf(constraint.schema)
      : undefined;
    if (!tools || tools.tools.length === 0) {
      return constrained ? { answer: constrained, ...(answerShape ? { answerShape } : {}) } : {};
    }
    // With tools too, the answer is a tool call or text that follows the constraint.
    const answer =
      constrained && tools.choice === 'auto' ? await this.orToolCall(constrained) : constrained;
    const compiled = await Promise.all(
      tools.tools.map(async (tool) => ({
        name: tool.name,
        arguments: await this.schemaGrammar(tool.parameters, tool.origin),
        shape: this.shapeOf(tool.parameters),
      })),
    );
    const names =
      compiled.length > 1
        ? await this.grammar(
            `root ::= (${compiled.map((tool) => `"${tool.name}"`).join(' | ')}) "\\""`,
          )
        : undefined;
    return {
      ...(answer ? { answer } : {}),
      ...(answerShape ? { answerShape } : {}),
      tools: {
        choice: tools.choice,
        parallel: tools.parallel,
        tools: compiled,
        ...(names ? { names } : {}),
        callOrEnd: await this.grammar(CALL_OR_END_GRAMMAR),
      },
    };
  }

  private answerGrammar(constraint: Constraint): Promise<LlamaGrammar> {
    if (constraint.kind === 'json')
      return this.cached('json', () => this.llama.getGrammarFor('json'));
    return this.schemaGrammar(constraint.schema, constraint.origin);
  }

  private async schemaGrammar(
    schema: Record<string, unknown>,
    origin: string,
  ): Promise<LlamaGrammar> {
    // Depth first: serializing a schema 10,000 levels deep would overflow the stack.
    refuseTooDeep(schema, origin);
    const key = this.keyOf(schema);
    refuseTooLarge(key.length - 'schema:'.length, origin);
    // A schema compiled before was checked then: clients send the same few again and again.
    const known = this.cache.get(key);
    if (known) return this.enforced(known, origin);
    const problem = this.problemIn(schema);
    if (problem) {
      throw new InvalidSchemaError(
        origin,
        `The JSON schema in '${origin}' is invalid: ${problem}.`,
      );
    }
    // An empty schema admits any JSON value.
    if (Object.keys(schema).length === 0) return this.answerGrammar({ kind: 'json' });
    let grammarSchema: Record<string, unknown>;
    try {
      grammarSchema = toGrammarSchema(schema);
      this.shapes.set(key, shapeFrom(grammarSchema), key.length);
    } catch (error) {
      if (!(error instanceof UnsupportedSchemaError)) throw error;
      throw new InvalidSchemaError(
        origin,
        `The JSON schema in '${origin}' cannot be enforced: ${error.message}.`,
      );
    }
    return this.enforced(
      this.cached(key, () =>
        // Client schemas are checked above at run time, not by the compile-time schema type.
        this.llama.createGrammarForJsonSchema(grammarSchema as never),
      ),
      origin,
    );
  }

  /** The grammar, or the error naming the schema when llama.cpp cannot compile it. */
  private async enforced(grammar: Promise<LlamaGrammar>, origin: string): Promise<LlamaGrammar> {
    try {
      return await grammar;
    } catch (error) {
      throw new InvalidSchemaError(
        origin,
        `The JSON schema in '${origin}' cannot be enforced: ${reason(error)}. Use type, properties, required, items, enum, const, anyOf/oneOf and string/number bounds.`,
      );
    }
  }

  /** `<tool_call>` (then the call's own grammars) or an answer that follows `answer`. */
  private orToolCall(answer: LlamaGrammar): Promise<LlamaGrammar> {
    const root = 'answer-or-tool-call';
    return this.cached(`or-call:${answer.grammar}`, async () => {
      return new LlamaGrammar(this.llama, {
        grammar: `${answer.grammar}\n${root} ::= "<tool_call>" | ${answer.rootRuleName}\n`,
        rootRuleName: root,
        stopGenerationTriggers: answer.stopGenerationTriggers,
        trimWhitespaceSuffix: answer.trimWhitespaceSuffix,
      });
    });
  }

  private grammar(text: string): Promise<LlamaGrammar> {
    return this.cached(`gbnf:${text}`, async () => new LlamaGrammar(this.llama, { grammar: text }));
  }

  /** What is wrong with a schema, or undefined: the meta-schema, then its $refs and patterns. */
  private problemIn(schema: Record<string, unknown>): string | undefined {
    try {
      if (!this.schemas.validateSchema(schema))
        return this.schemas.errorsText(undefined, { dataVar: 'schema' });
      return unresolvedRefOrBadPattern(schema);
    } catch (error) {
      // An unknown $schema (meta-schema) is thrown, not reported; nothing here may become a 500.
      return reason(error);
    }
  }

  /** Least recently used out first; a failed compilation is not kept. */
  private cached(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    const known = this.cache.get(key);
    if (known) return known;
    const grammar = create();
    // Sized by the key until compiled, then by the grammar's text too.
    this.cache.set(key, grammar, key.length);
    grammar.then(
      (compiled) => this.cache.resize(key, key.length + compiled.grammar.length),
      () => this.cache.delete(key),
    );
    return grammar;
  }
}

/** Keywords whose values are data, not schemas: a `pattern` or `$ref` inside them means nothing. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);
/** Keywords whose values map names (not keywords) to schemas. */
const SCHEMA_MAPS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
]);

/**
 * The first `$ref` that cannot be followed (only `#/$defs/<name>` and
 * `#/definitions/<name>` of a definition that exists can) or `pattern` that is
 * not a regular expression (as JSON Schema reads them: with Unicode), with
 * where it is; undefined when there is none. Iterative: a 250 KB schema may
 * hold 100,000 nodes.
 */
function unresolvedRefOrBadPattern(schema: Record<string, unknown>): string | undefined {
  const defined = (group: string) => {
    const defs = schema[group];
    return typeof defs === 'object' && defs !== null ? Object.keys(defs) : [];
  };
  const names: Record<string, string[]> = {
    $defs: defined('$defs'),
    definitions: defined('definitions'),
  };
  const pending: Array<{ value: unknown; at: string }> = [{ value: schema, at: '#' }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, at } = item;
    if (Array.isArray(value)) {
      for (const [index, inner] of value.entries())
        pending.push({ value: inner, at: `${at}/${index}` });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const node = value as Record<string, unknown>;
    if ('$ref' in node) {
      const problem = refProblem(node.$ref, names);
      if (problem) return `$ref ${JSON.stringify(node.$ref)} at ${at} ${problem}`;
    }
    if (typeof node.pattern === 'string') {
      try {
        new RegExp(node.pattern, 'u');
      } catch {
        return `pattern ${JSON.stringify(node.pattern)} at ${at} is not a valid regular expression`;
      }
    }
    for (const [key, inner] of Object.entries(node)) {
      if (DATA_KEYWORDS.has(key) || key === '$ref' || key === 'pattern') continue;
      if (
        SCHEMA_MAPS.has(key) &&
        inner !== null &&
        typeof inner === 'object' &&
        !Array.isArray(inner)
      ) {
        for (const [name, sub] of Object.entries(inner))
          pending.push({ value: sub, at: `${at}/${key}/${name}` });
      } else {
        pending.push({ value: inner, at: `${at}/${key}` });
      }
    }
  }
  return undefined;
}

/** Why a `$ref` cannot be followed, or undefined when it names a definition that exists. */
function refProblem(ref: unknown, names: Record<string, string[]>): string | undefined {
  const match = typeof ref === 'string' ? /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref) : null;
  if (!match) return 'cannot be followed; point $refs at #/$defs/<name>';
  let name: string;
  try {
    // A JSON pointer in a URI fragment: percent-encoding, then ~1 for / and ~0 for ~.
    name = decodeURIComponent(match[2] ?? '')
      .replaceAll('~1', '/')
      .replaceAll('~0', '~');
  } catch {
    return 'is not a valid JSON pointer';
  }
  return names[match[1] ?? '']?.includes(name) ? undefined : `names no definition in ${match[1]}`;
}

/** Checks depth without recursion (a deep schema must not overflow the stack here either). */
function refuseTooDeep(schema: Record<string, unknown>, origin: string): void {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: schema, depth: 1 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    if (item.depth > MAX_SCHEMA_DEPTH) {
      throw new InvalidSchemaError(
        origin,
        `The JSON schema in '${origin}' nests deeper than ${MAX_SCHEMA_DEPTH} levels (objects and arrays); flatten it or split it.`,
      );
    }
    if (item.value !== null && typeof item.value === 'object') {
      for (const inner of Object.values(item.value)) {
        if (inner !== null && typeof inner === 'object') {
          pending.push({ value: inner, depth: item.depth + 1 });
        }
      }
    }
  }
}

function refuseTooLarge(bytes: number, origin: string): void {
  if (bytes > MAX_SCHEMA_BYTES) {
    throw new InvalidSchemaError(
      origin,
      `The JSON schema in '${origin}' is ${bytes} bytes; at most ${MAX_SCHEMA_BYTES} are supported.`,
    );
  }
}

/** A translated schema as the closer needs it. */
function shapeFrom(translated: Record<string, unknown>): JsonShape {
  const defs = (translated.$defs ?? {}) as Record<string, Record<string, unknown>>;
  return { schema: translated, defs };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
