import { createInterface } from 'node:readline';
import type { CallOptions } from '@hrserve/client';
import { Conversation, type ConversationStore } from './conversation.js';
import { AnswerMeter } from './meter.js';
import { AnswerRenderer, type Styles } from './render.js';
import type { ChatSession } from './session.js';

const HELP = `Commands:
  /models            list the server's models (* marks the current one)
  /switch <model>    talk to another model
  /new               start a new conversation (the system prompt stays)
  /save <name>       save this conversation (a JSON file; on the server, its title too)
  /load [<name>]     list conversations (the server's and saved files), or continue one
  /history           show this conversation
  /system <prompt>   set the system prompt (/system alone shows it)
  /help              this help
  /quit              leave (so does Ctrl-D)
A line of three quotes (""") starts a message of several lines; another ends it.
Ctrl-C stops the answer being written; a stopped exchange is marked and not sent again.`;

/** The interactive chat: a prompt, streamed answers, slash commands; Ctrl-C cancels an answer only. */
export function runRepl(
  session: ChatSession,
  store: ConversationStore,
  style: Styles,
  options: { sampling: CallOptions; verbose: boolean },
): Promise<void> {
  const { stdout } = process;
  const say = (text: string): void => {
    stdout.write(`${text}\n`);
  };
  const rl = createInterface({ input: process.stdin, output: stdout, prompt: style.bold('you> ') });
  let answering: AbortController | undefined;
  let work = Promise.resolve();

  const commands: Record<string, (argument: string) => Promise<void> | void> = {
    help: () => say(HELP),
    quit: () => {
      rl.close();
    },
    models: async () => {
      for (const model of await session.refreshModels()) {
        say(`${model === session.conversation.model ? '*' : ' '} ${model}`);
      }
    },
    switch: async (model) => {
      if (!model) return say(style.red('usage: /switch <model>'));
      const models = await session.refreshModels();
      if (!models.includes(model)) {
        return say(style.red(`no model "${model}" on ${session.baseUrl}; /models lists them`));
      }
      session.conversation.model = model;
      say(style.green(`switched to ${model}`));
    },
    new: () => {
      session.conversation = new Conversation(
        session.conversation.model,
        session.conversation.system,
      );
      say(style.green('new conversation'));
    },
    save: async (name) => {
      try {
        const file = await store.save(name, session.conversation);
        const { server, conversation } = session;
        if (server && conversation.serverId) await server.rename(conversation.serverId, name);
        say(style.green(`saved ${name} (${file})`));
      } catch (error) {
        say(style.red(`cannot save: ${error instanceof Error ? error.message : String(error)}`));
      }
    },
    load: async (name) => {
      const { server } = session;
      if (!name) {
        for (const conversation of (await server?.list()) ?? []) {
          const when = new Date(conversation.createdAt * 1000).toISOString().slice(0, 16);
          say(`  ${conversation.id}  ${when}  ${conversation.title || style.dim('(untitled)')}`);
        }
        const saved = await store.list();
        if (saved.length > 0) say(style.dim(`saved files: ${saved.join(', ')}`));
        return;
      }
      try {
        const found = (await server?.list(100))?.find(
          (conversation) => conversation.id === name || conversation.title === name,
        );
        if (server && found) {
          const loaded = new Conversation(session.conversation.model, session.conversation.system);
          loaded.turns = await server.turns(found.id);
          loaded.serverId = found.id;
          session.conversation = loaded;
        } else {
          session.conversation = await store.load(name);
        }
        say(
          style.green(
            `loaded ${name} (${session.conversation.turns.length} messages, model ${session.conversation.model})`,
          ),
        );
      } catch (error) {
        say(style.red(`cannot load: ${error instanceof Error ? error.message : String(error)}`));
      }
    },
    history: () => {
      const { system, turns } = session.conversation;
      if (system) say(style.dim(`system: ${system}`));
      for (const turn of turns) {
        const mark = turn.cancelled ? style.dim(' [cancelled: not sent again]') : '';
        say(
          turn.role === 'user'
            ? `you: ${turn.content}${mark}`
            : style.cyan(`ai: ${turn.content}`) + mark,
        );
      }
      if (!system && turns.length === 0) say(style.dim('(empty)'));
    },
    system: (prompt) => {
      if (prompt) session.conversation.system = prompt;
      say(style.dim(`system: ${session.conversation.system || '(none)'}`));
    },
  };

  /**
   * The answer's text as it streams: a turn of the server's conversation when the server
   * keeps them (started at the first question, titled by it), else the local history
   * (cut to the context) sent with the question.
   */
  async function* answer(question: string, signal: AbortSignal): AsyncGenerator<string> {
    const { server, conversation } = session;
    const callOptions = { ...options.sampling, signal };
    if (server) {
      conversation.serverId ??= await server.create(question.split('\n', 1)[0]?.slice(0, 80) ?? '');
      yield* server.respond(conversation.serverId, {
        model: conversation.model,
        system: conversation.system,
        question,
        options: callOptions,
      });
      return;
    }
    const messages = await session.messagesFor(question);
    yield* session.client.stream(messages, { ...callOptions, model: conversation.model });
  }

  const ask = async (question: string) => {
    const controller = new AbortController();
    answering = controller;
    const renderer = new AnswerRenderer(style);
    const meter = new AnswerMeter();
    let text = '';
    let cancelled = false;
    try {
      for await (const delta of answer(question, controller.signal)) {
        meter.delta();
        text += delta;
        stdout.write(renderer.push(delta));
      }
      stdout.write(`${renderer.flush()}\n`);
      if (options.verbose) say(style.dim(await meter.line(session.client, text)));
    } catch (error) {
      stdout.write(renderer.flush());
      if (!controller.signal.aborted) {
        say(style.red(`\nerror: ${error instanceof Error ? error.message : String(error)}`));
        return;
      }
      cancelled = true;
      say(style.dim(' [cancelled]'));
    } finally {
      answering = undefined;
    }
    session.conversation.turns.push(
      { role: 'user', content: question, ...(cancelled ? { cancelled } : {}) },
      { role: 'assistant', content: text, ...(cancelled ? { cancelled } : {}) },
    );
  };

  const handle = async (line: string) => {
    const input = line.trim();
    if (!input) return;
    if (input.startsWith('/')) {
      const [name = '', ...rest] = input.slice(1).split(/\s+/);
      const command = commands[name];
      if (command) await command(rest.join(' '));
      else say(style.red(`unknown command /${name}; /help lists them`));
      return;
    }
    await ask(input);
  };

  /** The lines of a message begun with a line of three quotes, until one ends with them. */
  let multiline: string[] | undefined;
  const collect = (line: string): string | undefined => {
    if (multiline === undefined) {
      if (!line.trimStart().startsWith('"""')) return line;
      const first = line.trimStart().slice(3);
      if (first.trimEnd().endsWith('"""') && first.trim().length >= 3) {
        return first.trimEnd().slice(0, -3);
      }
      multiline = first ? [first] : [];
      return undefined;
    }
    if (line.trimEnd().endsWith('"""')) {
      const lines = [...multiline, line.trimEnd().slice(0, -3)];
      multiline = undefined;
      return lines.join('\n').trim();
    }
    multiline.push(line);
    return undefined;
  };

  rl.on('line', (raw) => {
    const line = collect(raw);
    if (line === undefined) {
      rl.setPrompt(style.dim('... '));
      rl.prompt();
      return;
    }
    rl.setPrompt(style.bold('you> '));
    work = work
      .then(() => handle(line))
      .then(() => {
        if (!closed) rl.prompt();
      });
  });
  rl.on('SIGINT', () => {
    if (answering) {
      answering.abort();
      return;
    }
    say(style.dim('\n(Ctrl-C stops an answer; /quit or Ctrl-D leaves)'));
    rl.prompt();
  });
  let closed = false;
  return new Promise((resolve) => {
    rl.on('close', () => {
      closed = true;
      answering?.abort();
      void work.then(() => resolve());
    });
    say(
      style.dim(
        `hrchat — ${session.baseUrl}, model ${session.conversation.model}${session.server ? ', conversations kept on the server (/load lists them)' : ''}. /help for commands.`,
      ),
    );
    rl.prompt();
    // Input from a pipe that main.ts read to its end (empty): nothing more will come.
    if (process.stdin.readableEnded) rl.close();
  });
}
