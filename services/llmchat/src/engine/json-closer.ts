/**
 * Follows a JSON value as it is generated, with the schema of every open
 * container, and says what text would complete it: close the open string,
 * finish a number or literal, give a pending key its value, add the required
 * properties still missing (each with the smallest value its schema allows),
 * and close every open object and array. Generation under a JSON grammar
 * appends this when the token budget runs out, so an answer cut by
 * `max_tokens` still parses and has its required fields (finish reason stays
 * `length`). Other servers return the cut, unparseable text.
 */

type Schema = Record<string, unknown>;

interface ObjectFrame {
  kind: 'object';
  schema: Schema | undefined;
  keys: string[];
  /** What comes next: a key (or the end), a `:`, a value, or a `,`/end. */
  state: 'key-or-end' | 'key' | 'colon' | 'value' | 'comma-or-end';
  /** The key being read or waiting for its value. */
  key: string;
}

interface ArrayFrame {
  kind: 'array';
  schema: Schema | undefined;
  items: number;
  state: 'value-or-end' | 'value' | 'comma-or-end';
}

type Frame = ObjectFrame | ArrayFrame;

/** A scalar being read: a string (value or key), a number, or a literal. */
type Scalar =
  | {
      kind: 'string';
      isKey: boolean;
      text: string;
      escape: '' | '\\' | `\\u${string}`;
      /** A value's schema (for its minLength). */
      schema?: Schema | undefined;
    }
  | { kind: 'number'; text: string }
  | { kind: 'literal'; text: string };

const LITERALS = ['true', 'false', 'null'];

export class JsonCloser {
  private readonly stack: Frame[] = [];
  private scalar: Scalar | undefined;
  private started = false;
  private done = false;
  /** Text that is not JSON (a tool call's opening, say): nothing to close. */
  private abandoned = false;

  constructor(
    private readonly root: Schema | undefined,
    private readonly defs: Record<string, Schema> = {},
  ) {}

  push(text: string): void {
    for (const char of text) {
      if (this.abandoned || this.done) return;
      this.step(char);
    }
  }

  /** The text that completes the value read so far, or '' when it is complete (or not JSON). */
  closing(): string {
    if (this.abandoned || this.done) return '';
    if (!this.started) return JSON.stringify(this.minimal(this.root));
    let suffix = '';
    const scalar = this.scalar;
    /** A half-written key: the next property the schema allows that begins so (else as written). */
    let keyName: string | undefined;
    if (scalar?.kind === 'string') {
      if (scalar.isKey) {
        const frame = this.stack.at(-1);
        const keys = frame?.kind === 'object' ? frame.keys : [];
        const properties = Object.keys((frame?.schema?.properties as Schema | undefined) ?? {});
        keyName =
          (scalar.escape
            ? undefined
            : properties.find((name) => !keys.includes(name) && name.startsWith(scalar.text))) ??
          scalar.text;
        suffix += JSON.stringify(keyName.slice(scalar.text.length)).slice(1, -1);
      }
      if (scalar.escape === '\\') suffix += 'n';
      else if (scalar.escape.startsWith('\\u')) suffix += '0'.repeat(6 - scalar.escape.length);
      // A string of an enum (or const) is completed to the allowed value it begins.
      const allowed = [
        ...(Array.isArray(scalar.schema?.enum) ? scalar.schema.enum : []),
        ...(scalar.schema && 'const' in scalar.schema ? [scalar.schema.const] : []),
      ].find((value) => typeof value === 'string' && value.startsWith(scalar.text));
      if (typeof allowed === 'string' && !scalar.escape) {
        suffix += JSON.stringify(allowed.slice(scalar.text.length)).slice(1, -1);
      }
      const minLength = scalar.schema?.minLength;
      if (typeof minLength === 'number')
        suffix += 'a'.repeat(Math.max(0, minLength - scalar.text.length));
      suffix += '"';
    } else if (scalar?.kind === 'number') {
      if (/[-+.eE]$/.test(scalar.text)) suffix += '0';
    } else if (scalar?.kind === 'literal') {
      const literal = LITERALS.find((word) => word.startsWith(scalar.text)) ?? 'null';
      suffix += literal.slice(scalar.text.length);
    }
    for (let depth = this.stack.length - 1; depth >= 0; depth--) {
      const frame = this.stack[depth];
      if (!frame) continue;
      // The innermost frame may be waiting for something; outer ones are mid-value.
      const innermost = depth === this.stack.length - 1;
      if (frame.kind === 'object') {
        suffix += this.closeObject(frame, innermost, innermost ? keyName : undefined, scalar);
      } else {
        suffix += this.closeArray(frame, innermost, scalar);
      }
    }
    return suffix;
  }

  private closeObject(
    frame: ObjectFrame,
    innermost: boolean,
    /** The key being written, closed by now. */
    openKey: string | undefined,
    scalar: Scalar | undefined,
  ): string {
    let suffix = '';
    const keys = [...frame.keys];
    const minimalOf = (key: string) =>
      JSON.stringify(this.minimal(this.propertySchema(frame, key)));
    if (!innermost) {
      // Its value (an inner container) is being completed.
      keys.push(frame.key);
    } else if (openKey !== undefined) {
      suffix += `: ${minimalOf(openKey)}`;
      keys.push(openKey);
    } else if (frame.state === 'colon') {
      suffix += `: ${minimalOf(frame.key)}`;
      keys.push(frame.key);
    } else if (frame.state === 'value') {
      if (!scalar) suffix += minimalOf(frame.key);
      keys.push(frame.key);
    } else if (frame.state === 'key') {
      // After a comma a property must follow: a missing required one, else any allowed one.
      const next = this.missingRequired(frame.schema, keys)[0] ?? this.anyNewKey(frame, keys);
      suffix += `${JSON.stringify(next)}: ${minimalOf(next)}`;
      keys.push(next);
    }
    for (const key of this.missingRequired(frame.schema, keys)) {
      suffix += `${keys.length > 0 ? ', ' : ''}${JSON.stringify(key)}: ${minimalOf(key)}`;
      keys.push(key);
    }
    return `${suffix}}`;
  }

  private closeArray(frame: ArrayFrame, innermost: boolean, scalar: Scalar | undefined): string {
    let suffix = '';
    // An item in progress (an inner container, or a scalar being completed) counts.
    let items = frame.items + (!innermost || scalar ? 1 : 0);
    const itemSchema = this.resolve(frame.schema?.items as Schema | undefined);
    if (innermost && frame.state === 'value' && !scalar) {
      suffix += JSON.stringify(this.minimal(itemSchema));
      items += 1;
    }
    const minItems = typeof frame.schema?.minItems === 'number' ? frame.schema.minItems : 0;
    for (; items < minItems; items++) {
      suffix += `${items > 0 ? ', ' : ''}${JSON.stringify(this.minimal(itemSchema))}`;
    }
    return `${suffix}]`;
  }

  private step(char: string): void {
    const scalar = this.scalar;
    if (scalar?.kind === 'string') {
      this.stringChar(scalar, char);
      return;
    }
    if (scalar?.kind === 'number') {
      if (/[-+.eE0-9]/.test(char)) {
        scalar.text += char;
        return;
      }
      this.valueDone();
    } else if (scalar?.kind === 'literal') {
      if (/[a-z]/.test(char)) {
        scalar.text += char;
        if (LITERALS.includes(scalar.text)) this.valueDone();
        return;
      }
      this.valueDone();
    }
    if (/\s/.test(char)) return;
    this.structural(char);
  }

  private stringChar(scalar: Extract<Scalar, { kind: 'string' }>, char: string): void {
    if (scalar.escape === '\\') {
      scalar.escape = char === 'u' ? '\\u' : '';
      return;
    }
    if (scalar.escape.startsWith('\\u')) {
      scalar.escape = scalar.escape.length >= 5 ? '' : `\\u${scalar.escape.slice(2)}${char}`;
      return;
    }
    if (char === '\\') {
      scalar.escape = '\\';
      return;
    }
    if (char !== '"') {
      scalar.text += char;
      return;
    }
    this.scalar = undefined;
    const frame = this.stack.at(-1);
    if (scalar.isKey && frame?.kind === 'object') {
      frame.key = scalar.text;
      frame.state = 'colon';
    } else {
      this.valueDone();
    }
  }

  private structural(char: string): void {
    const frame = this.stack.at(-1);
    if (!this.started) {
      if (!'{["-0123456789tfn'.includes(char)) {
        this.abandoned = true;
        return;
      }
      this.started = true;
      this.startValue(char, this.root);
      return;
    }
    if (!frame) {
      this.done = true;
      return;
    }
    if (frame.kind === 'object') {
      if (char === '}') {
        this.endContainer();
        return;
      }
      if (char === '"' && (frame.state === 'key-or-end' || frame.state === 'key')) {
        this.scalar = { kind: 'string', isKey: true, text: '', escape: '' };
        return;
      }
      if (char === ':' && frame.state === 'colon') {
        frame.state = 'value';
        return;
      }
      if (char === ',' && frame.state === 'comma-or-end') {
        frame.state = 'key';
        return;
      }
      if (frame.state === 'value') this.startValue(char, this.propertySchema(frame, frame.key));
      return;
    }
    if (char === ']') {
      this.endContainer();
      return;
    }
    if (char === ',' && frame.state === 'comma-or-end') {
      frame.state = 'value';
      return;
    }
    if (frame.state === 'value' || frame.state === 'value-or-end') {
      this.startValue(char, this.resolve(frame.schema?.items as Schema | undefined));
    }
  }

  private startValue(char: string, schema: Schema | undefined): void {
    if (char === '{') {
      this.stack.push({
        kind: 'object',
        schema: this.branchFor(schema, 'object'),
        keys: [],
        state: 'key-or-end',
        key: '',
      });
    } else if (char === '[') {
      this.stack.push({
        kind: 'array',
        schema: this.branchFor(schema, 'array'),
        items: 0,
        state: 'value-or-end',
      });
    } else if (char === '"') {
      this.scalar = {
        kind: 'string',
        isKey: false,
        text: '',
        escape: '',
        schema: this.branchFor(schema, 'string'),
      };
    } else if (/[-0-9]/.test(char)) {
      this.scalar = { kind: 'number', text: char };
    } else {
      this.scalar = { kind: 'literal', text: char };
    }
  }

  /** A value in the innermost container is complete. */
  private valueDone(): void {
    this.scalar = undefined;
    const frame = this.stack.at(-1);
    if (!frame) {
      this.done = true;
      return;
    }
    if (frame.kind === 'object') {
      frame.keys.push(frame.key);
      frame.state = 'comma-or-end';
    } else {
      frame.items += 1;
      frame.state = 'comma-or-end';
    }
  }

  private endContainer(): void {
    this.stack.pop();
    this.valueDone();
  }

  private propertySchema(frame: ObjectFrame, key: string): Schema | undefined {
    const properties = frame.schema?.properties as Record<string, Schema> | undefined;
    const additional = frame.schema?.additionalProperties;
    return this.resolve(
      properties?.[key] ?? (typeof additional === 'object' ? (additional as Schema) : undefined),
    );
  }

  private missingRequired(schema: Schema | undefined, keys: string[]): string[] {
    const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
    return required.filter((key) => !keys.includes(key));
  }

  private anyNewKey(frame: ObjectFrame, keys: string[]): string {
    const properties = Object.keys((frame.schema?.properties as Schema | undefined) ?? {});
    return properties.find((key) => !keys.includes(key)) ?? `_${keys.length}`;
  }

  /** Follows `$ref`s into `$defs`. */
  private resolve(schema: Schema | undefined): Schema | undefined {
    for (let hops = 0; schema && typeof schema.$ref === 'string' && hops < 32; hops++) {
      schema = this.defs[schema.$ref.replace(/^#\/\$defs\//, '')];
    }
    return schema;
  }

  /** Under a oneOf (a union, an optional field): the first branch of the type the value began as. */
  private branchFor(
    schema: Schema | undefined,
    type: 'object' | 'array' | 'string',
  ): Schema | undefined {
    const resolved = this.resolve(schema);
    if (!resolved || !Array.isArray(resolved.oneOf)) return resolved;
    const fits = (branch: Schema | undefined) => {
      if (!branch) return false;
      const types = Array.isArray(branch.type) ? branch.type : [branch.type];
      if (types.includes(type)) return true;
      if (type === 'object') return branch.properties !== undefined;
      if (type === 'array') return branch.items !== undefined;
      return Array.isArray(branch.enum) && branch.enum.some((value) => typeof value === 'string');
    };
    const branches = (resolved.oneOf as Schema[]).map((branch) => this.resolve(branch));
    return branches.find(fits) ?? resolved;
  }

  /** The smallest value `schema` allows (any JSON when unknown: null). */
  minimal(schema: Schema | undefined): unknown {
    const resolved = this.resolve(schema);
    if (!resolved) return null;
    if ('const' in resolved) return resolved.const;
    if (Array.isArray(resolved.enum)) return resolved.enum[0] ?? null;
    if (Array.isArray(resolved.oneOf)) return this.minimal(resolved.oneOf[0] as Schema);
    const type = Array.isArray(resolved.type) ? resolved.type[0] : resolved.type;
    switch (type) {
      case 'string':
        if (resolved.format === 'date-time') return '1970-01-01T00:00:00Z';
        if (resolved.format === 'date') return '1970-01-01';
        if (resolved.format === 'time') return '00:00:00';
        return 'a'.repeat(typeof resolved.minLength === 'number' ? resolved.minLength : 0);
      case 'number':
      case 'integer':
        return typeof resolved.minimum === 'number' ? Math.ceil(resolved.minimum) : 0;
      case 'boolean':
        return false;
      case 'array': {
        const count = typeof resolved.minItems === 'number' ? resolved.minItems : 0;
        return Array.from({ length: count }, () => this.minimal(resolved.items as Schema));
      }
      case 'object': {
        const value: Record<string, unknown> = {};
        for (const key of this.missingRequired(resolved, [])) {
          value[key] = this.minimal(
            (resolved.properties as Record<string, Schema> | undefined)?.[key],
          );
        }
        return value;
      }
      default:
        return null;
    }
  }
}
