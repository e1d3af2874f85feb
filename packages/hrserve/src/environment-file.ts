import { readFileSync } from 'node:fs';

/**
 * A settings file read as systemd reads a unit's `EnvironmentFile=`, so `just dev` and the
 * unit give a service the same values: systemd's parser (src/basic/env-file.c,
 * parse_env_file_internal, v254+) transcribed state for state, as systemd.exec(5) describes it:
 * - `KEY=value` lines; lines starting with `#` or `;` are comments, lines without `=` are skipped;
 * - an unquoted value keeps inner whitespace and a `#` (no end-of-line comments), loses the
 *   whitespace around it, and a backslash keeps the next character (`\` at the end of a
 *   line continues it);
 * - '…' keeps everything up to the next quote, newlines included, no escapes;
 * - "…" spans lines too; `\"`, `\\`, `` \` `` and `\$` give the character, `\` at the end of a
 *   line continues it, any other backslash stays as it is;
 * - no `$VAR` expansion and no `export` (a name must be letters, digits and `_`, not starting
 *   with a digit; others are ignored, as systemd drops them);
 * - a name given twice takes its last value.
 * Node's own `--env-file` differs on several of these (end-of-line `#` comments, `\"`), which
 * would make a key like `abc#1` reach the service cut short in development only.
 */

const NEWLINE = '\n\r';
const WHITESPACE = ' \t\n\r';
const COMMENTS = '#;';
const SHELL_NEED_ESCAPE = '"\\`$';
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type State =
  | 'PRE_KEY'
  | 'KEY'
  | 'PRE_VALUE'
  | 'VALUE'
  | 'VALUE_ESCAPE'
  | 'SINGLE_QUOTE_VALUE'
  | 'DOUBLE_QUOTE_VALUE'
  | 'DOUBLE_QUOTE_VALUE_ESCAPE'
  | 'COMMENT'
  | 'COMMENT_ESCAPE';

export interface ParsedEnvironmentFile {
  /** The assignments in file order, a repeated name at its last value. */
  variables: Map<string, string>;
  /** Names systemd would drop (not letters, digits and `_`), e.g. `export FOO`. */
  invalidNames: string[];
}

export function parseEnvironmentFile(text: string): ParsedEnvironmentFile {
  const variables = new Map<string, string>();
  const invalidNames: string[] = [];
  let state: State = 'PRE_KEY';
  let key = '';
  let value = '';
  // Where trailing whitespace starts in key and value (-1: none), chopped when the line ends.
  let keyWhitespace = -1;
  let valueWhitespace = -1;

  const push = (chopValue: boolean) => {
    const name = keyWhitespace === -1 ? key : key.slice(0, keyWhitespace);
    const finalValue =
      chopValue && valueWhitespace !== -1 ? value.slice(0, valueWhitespace) : value;
    if (VALID_NAME.test(name)) {
      variables.delete(name);
      variables.set(name, finalValue);
    } else {
      invalidNames.push(name);
    }
    key = '';
    value = '';
  };

  for (const c of text) {
    switch (state) {
      case 'PRE_KEY':
        if (COMMENTS.includes(c)) state = 'COMMENT';
        else if (!WHITESPACE.includes(c)) {
          state = 'KEY';
          keyWhitespace = -1;
          key = c;
        }
        break;
      case 'KEY':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          key = '';
        } else if (c === '=') {
          state = 'PRE_VALUE';
          valueWhitespace = -1;
        } else {
          if (!WHITESPACE.includes(c)) keyWhitespace = -1;
          else if (keyWhitespace === -1) keyWhitespace = key.length;
          key += c;
        }
        break;
      case 'PRE_VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push(false);
        } else if (c === "'") state = 'SINGLE_QUOTE_VALUE';
        else if (c === '"') state = 'DOUBLE_QUOTE_VALUE';
        else if (c === '\\') state = 'VALUE_ESCAPE';
        else if (!WHITESPACE.includes(c)) {
          state = 'VALUE';
          value += c;
        }
        break;
      case 'VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push(true);
        } else if (c === '\\') {
          state = 'VALUE_ESCAPE';
          valueWhitespace = -1;
        } else {
          if (!WHITESPACE.includes(c)) valueWhitespace = -1;
          else if (valueWhitespace === -1) valueWhitespace = value.length;
          value += c;
        }
        break;
      case 'VALUE_ESCAPE':
        state = 'VALUE';
        // An escaped newline continues the line and is dropped.
        if (!NEWLINE.includes(c)) value += c;
        break;
      case 'SINGLE_QUOTE_VALUE':
        if (c === "'") state = 'PRE_VALUE';
        else value += c;
        break;
      case 'DOUBLE_QUOTE_VALUE':
        if (c === '"') state = 'PRE_VALUE';
        else if (c === '\\') state = 'DOUBLE_QUOTE_VALUE_ESCAPE';
        else value += c;
        break;
      case 'DOUBLE_QUOTE_VALUE_ESCAPE':
        state = 'DOUBLE_QUOTE_VALUE';
        if (SHELL_NEED_ESCAPE.includes(c)) value += c;
        else if (c !== '\n') value += `\\${c}`;
        break;
      case 'COMMENT':
        if (c === '\\') state = 'COMMENT_ESCAPE';
        else if (NEWLINE.includes(c)) state = 'PRE_KEY';
        break;
      case 'COMMENT_ESCAPE':
        // Since v254 a comment ending in a backslash no longer swallows the next line.
        state = NEWLINE.includes(c) ? 'PRE_KEY' : 'COMMENT';
        break;
      default:
        state satisfies never;
    }
  }
  // The last line needs no newline; a value cut at the end of the file still counts.
  if (
    state === 'PRE_VALUE' ||
    state === 'VALUE' ||
    state === 'VALUE_ESCAPE' ||
    state === 'SINGLE_QUOTE_VALUE' ||
    state === 'DOUBLE_QUOTE_VALUE' ||
    state === 'DOUBLE_QUOTE_VALUE_ESCAPE'
  ) {
    push(state === 'VALUE');
  }
  return { variables, invalidNames };
}

export interface AppliedEnvironmentFile {
  path: string;
  /** Names set from the file. */
  applied: string[];
  /** Names the file has but the environment already set: the environment wins. */
  overridden: string[];
  invalidNames: string[];
}

/**
 * Sets in `env` every variable of the file at `path` that `env` does not have yet, so a
 * variable given on the command line wins over the file. Undefined when there is no file.
 */
export function applyEnvironmentFile(
  path: string,
  env: Record<string, string | undefined>,
): AppliedEnvironmentFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const { variables, invalidNames } = parseEnvironmentFile(text);
  const applied: string[] = [];
  const overridden: string[] = [];
  for (const [name, value] of variables) {
    if (env[name] !== undefined) {
      overridden.push(name);
    } else {
      env[name] = value;
      applied.push(name);
    }
  }
  return { path, applied, overridden, invalidNames };
}
