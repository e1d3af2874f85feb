/** One fenced `sh` block of a Markdown file. */
export interface ShellBlock {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** Why the block is not run (the fence reads "```sh untested: <why>"); undefined when it is. */
  untested?: string;
  commands: ShellCommand[];
}

/** One command line of a block, continuation lines (ending in `\`) joined. */
export interface ShellCommand {
  /** As written, comment included: what bash runs. */
  text: string;
  /** Without its trailing `# comment`. */
  code: string;
  /** The trailing comment's text, or '' */
  comment: string;
}

const OPENING_FENCE = /^```(?:sh|bash|shell)(?:\s+(.*))?$/;
const CLOSING_FENCE = /^```\s*$/;
const UNTESTED = /^untested:\s*(.+)$/;

/** Every `sh`/`bash`/`shell` fenced block of `markdown`, in order. */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const opening = OPENING_FENCE.exec(lines[index] ?? '');
    if (!opening) {
      // Skip other fenced blocks whole, so a ```ts block's lines are never read as fences.
      if (lines[index]?.startsWith('```')) {
        index++;
        while (index < lines.length && !CLOSING_FENCE.test(lines[index] ?? '')) index++;
      }
      continue;
    }
    const info = (opening[1] ?? '').trim();
    const untested = UNTESTED.exec(info)?.[1];
    const body: string[] = [];
    const line = index + 1;
    index++;
    while (index < lines.length && !CLOSING_FENCE.test(lines[index] ?? '')) {
      body.push(lines[index] ?? '');
      index++;
    }
    if (index >= lines.length) throw new Error(`README.md:${line}: the sh block is never closed`);
    blocks.push({ line, ...(untested ? { untested } : {}), commands: commandsOf(body) });
  }
  return blocks;
}

function commandsOf(body: string[]): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let pending = '';
  for (const raw of body) {
    const line = pending ? `${pending}\n${raw}` : raw;
    if (raw.endsWith('\\')) {
      pending = line;
      continue;
    }
    pending = '';
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const { code, comment } = splitComment(trimmed);
    commands.push({ text: trimmed, code, comment });
  }
  if (pending) commands.push({ text: pending.trim(), ...splitComment(pending.trim()) });
  return commands;
}

/** Splits off a trailing `# comment`: a `#` after whitespace and outside quotes, as bash reads it. */
export function splitComment(line: string): { code: string; comment: string } {
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"') index++;
      continue;
    }
    if (char === '\\') index++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(line[index - 1] ?? ''))) {
      return { code: line.slice(0, index).trimEnd(), comment: line.slice(index + 1).trim() };
    }
  }
  return { code: line, comment: '' };
}
