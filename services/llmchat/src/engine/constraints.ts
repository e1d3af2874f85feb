import { Ajv } from 'ajv';
import { type Llama, LlamaGrammar } from 'node-llama-cpp';
import { InvalidSchemaError } from './engine-errors.js';
import { toGrammarSchema, UnsupportedSchemaError } from './grammar-schema.js';
import type { Constraint, ToolCalling } from './types.js';

/** Compiled grammars kept per process; clients tend to send the same few schemas again and again. */
const CACHE_SIZE = 128;

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
 * against the JSON Schema meta-schema (with resolvable $refs): the grammar
 * converter would otherwise turn a broken schema into a grammar for something
 * else, silently. Grammars belong to the `Llama` instance, so one compiler
 * serves every model of the process.
 */
export class ConstraintCompiler {
  /** strict off: unknown keywords are allowed, as OpenAI allows them. */
  private readonly schemas = new Ajv({ strict: false, validateFormats: false });
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();
  /** The translated schema of each compiled one, for closing cut JSON (json-closer.ts). */
  private readonly shapes = new Map<string, JsonShape>();

  /** The shape of a schema `compile` has compiled (translated once, there). */
  private shapeOf(schema: Record<string, unknown>): JsonShape {
    if (Object.keys(schema).length === 0) return { schema: undefined, defs: {} };
    return (
      this.shapes.get(`schema:${JSON.stringify(schema)}`) ?? shapeFrom(toGrammarSchema(schema))
    );
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
    refuseOversized(schema, origin);
    // A schema compiled before was checked then: clients send the same few again and again.
    const key = `schema:${JSON.stringify(schema)}`;
    const known = this.cache.get(key);
    if (known)
      return this.enforced(
        this.cached(key, () => known),
        origin,
      );
    try {
      this.schemas.compile(schema);
    } catch (error) {
      throw new InvalidSchemaError(
        origin,
        `The JSON schema in '${origin}' is invalid: ${reason(error)}.`,
      );
    } finally {
      // Ajv keeps every compiled schema (by $id too); the grammar cache is what is kept.
      this.schemas.removeSchema();
    }
    // An empty schema admits any JSON value.
    if (Object.keys(schema).length === 0) return this.answerGrammar({ kind: 'json' });
    let grammarSchema: Record<string, unknown>;
    try {
      grammarSchema = toGrammarSchema(schema);
      this.shapes.set(key, shapeFrom(grammarSchema));
      if (this.shapes.size > CACHE_SIZE) this.shapes.delete(this.shapes.keys().next().value ?? '');
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

  /** Least recently used out first; a failed compilation is not kept. */
  private cached(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.cache.get(key);
    if (grammar) {
      this.cache.delete(key);
    } else {
      grammar = create();
      grammar.catch(() => this.cache.delete(key));
    }
    this.cache.set(key, grammar);
    if (this.cache.size > CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return grammar;
  }
}

/** Checks depth without recursion (a deep schema must not overflow the stack here either), then size. */
function refuseOversized(schema: Record<string, unknown>, origin: string): void {
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
  const bytes = JSON.stringify(schema).length;
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
