import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@hrserve/client';

/** Where conversations are saved: `$XDG_DATA_HOME/hrserve/hrchat` (default `~/.local/share/hrserve/hrchat`). */
export function dataDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'hrserve', 'hrchat');
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** A message of the chat; `cancelled` marks a question whose answer was stopped, and that answer. */
export type Turn = Message & { cancelled?: boolean };

/** One chat: the model, an optional system prompt and the turns. */
export class Conversation {
  /** The server's conversation id, when the server keeps this conversation. */
  serverId: string | undefined;

  constructor(
    public model: string,
    public system = '',
    public turns: Turn[] = [],
  ) {}

  /**
   * What is sent: the system prompt (if any), then the turns. A cancelled exchange stays in
   * the history shown, not in what the model reads: a cut answer would teach it to stop short.
   */
  get messages(): Message[] {
    return [
      ...(this.system ? [{ role: 'system' as const, content: this.system }] : []),
      ...this.turns
        .filter((turn) => !turn.cancelled)
        .map(({ role, content }) => ({ role, content })),
    ];
  }

  toJSON() {
    return {
      model: this.model,
      system: this.system,
      turns: this.turns,
      saved_at: new Date().toISOString(),
    };
  }

  static fromJSON(value: unknown): Conversation {
    const data = value as { model?: unknown; system?: unknown; turns?: unknown };
    if (typeof data.model !== 'string' || !Array.isArray(data.turns))
      throw new Error('not a saved conversation');
    return new Conversation(
      data.model,
      typeof data.system === 'string' ? data.system : '',
      data.turns as Turn[],
    );
  }
}

/** Saved conversations as `<name>.json` files. */
export class ConversationStore {
  constructor(private readonly directory: string) {}

  private file(name: string): string {
    if (!NAME.test(name))
      throw new Error('use a name of letters, digits, ".", "_" or "-" (at most 64)');
    return join(this.directory, `${name}.json`);
  }

  async save(name: string, conversation: Conversation): Promise<string> {
    const file = this.file(name);
    await mkdir(this.directory, { recursive: true });
    await writeFile(file, `${JSON.stringify(conversation, null, 2)}\n`);
    return file;
  }

  async load(name: string): Promise<Conversation> {
    const file = this.file(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new Error(
        `no saved conversation "${name}" (${(await this.list()).join(', ') || 'none saved yet'})`,
      );
    }
    return Conversation.fromJSON(JSON.parse(text));
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.directory))
        .filter((file) => file.endsWith('.json'))
        .map((file) => file.slice(0, -5));
    } catch {
      return [];
    }
  }
}
