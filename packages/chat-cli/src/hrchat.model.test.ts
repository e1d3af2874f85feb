import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { type SpawnedService, spawnService } from '@hrserve/test-support/spawn';
import { requireTool } from '@hrserve/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const HRCHAT = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const LLMCHAT_ROOT = fileURLToPath(new URL('../../../services/llmchat/', import.meta.url));
const MODELS_DIR = fileURLToPath(new URL('../../../../shared/models/', import.meta.url));
const SOCKET = `hrchat-test-${process.pid}`;

const tmux = (...args: string[]) => run('tmux', ['-L', SOCKET, ...args]);
/** The screen without colour codes. */
const strip = (text: string) => stripVTControlCharacters(text);

/** hrchat in a real pseudo-terminal (a tmux pane), driven by keys and read from the screen. */
class Terminal {
  constructor(private readonly session: string) {}

  static async open(session: string, command: string): Promise<Terminal> {
    await tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', command);
    return new Terminal(session);
  }

  keys(...keys: string[]) {
    return tmux('send-keys', '-t', this.session, ...keys);
  }

  async type(line: string) {
    await this.keys('-l', line);
    await this.keys('Enter');
  }

  async screen(): Promise<string> {
    const { stdout } = await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.session);
    return strip(stdout);
  }

  /** Waits until the screen matches, returning it. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`screen never matched ${pattern}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Prompts on the screen so far (each turn ends with a fresh one). */
const prompts = (screen: string) => screen.match(/^you> /gm)?.length ?? 0;

describe('hrchat against a real llmchat', () => {
  let llmchat: SpawnedService;
  let dataHome: string;
  beforeAll(async () => {
    requireTool('tmux', 'tmux');
    llmchat = await spawnService({
      cwd: LLMCHAT_ROOT,
      env: { LLMCHAT_MODEL: `${MODELS_DIR}stories260K.gguf`, LLMCHAT_MODELS_DIR: MODELS_DIR },
    });
    await llmchat.waitForLog((line) => line.msg === 'model loaded');
    dataHome = await mkdtemp(join(tmpdir(), 'hrchat-'));
  });
  afterAll(async () => {
    await tmux('kill-server').catch(() => {});
    await llmchat.stop();
  });

  const hrchat = (args: string) =>
    Terminal.open(
      `s${Math.random().toString(36).slice(2, 8)}`,
      `env XDG_DATA_HOME=${dataHome} node ${HRCHAT} --url ${llmchat.url} ${args}; echo "hrchat exited $?"; sleep 60`,
    );

  it('answers a turn, switches model, saves and loads the conversation', async () => {
    const terminal = await hrchat('--max-tokens 24');
    await terminal.waitFor(
      /model stories260K, conversations kept on the server[^\n]*\/help for commands\.\s*\nyou> /,
    );
    await terminal.type('Once upon a time');
    let screen = await terminal.waitFor(/you> Once upon a time\n[\s\S]+\nyou> $/m);
    const answer = screen.split('you> Once upon a time\n')[1]?.split('\nyou> ')[0]?.trim() ?? '';
    expect(answer.length).toBeGreaterThan(0);

    await terminal.type('/switch synth-30M-q8_0');
    await terminal.waitFor(/switched to synth-30M-q8_0/);
    await terminal.type('/save story');
    await terminal.waitFor(/saved story/);
    const saved = JSON.parse(
      await readFile(join(dataHome, 'hrserve/hrchat/conversations/story.json'), 'utf8'),
    );
    expect(saved).toMatchObject({
      model: 'synth-30M-q8_0',
      turns: [{ role: 'user', content: 'Once upon a time' }, { role: 'assistant' }],
    });

    await terminal.type('/new');
    await terminal.waitFor(/new conversation/);
    await terminal.type('/history');
    await terminal.waitFor(/\(empty\)/);
    await terminal.type('/load story');
    await terminal.waitFor(/loaded story \(2 messages, model synth-30M-q8_0\)/);
    await terminal.type('/history');
    screen = await terminal.waitFor(/you: Once upon a time\nai: /);
    expect(screen).toContain(`ai: ${answer.split('\n')[0]}`);
    await terminal.type('/quit');
    await terminal.waitFor(/hrchat exited 0/);
  });

  it('Ctrl-C stops the answer being written, not the program', async () => {
    const terminal = await hrchat('--model synth-30M-q8_0 --max-tokens 4000');
    await terminal.waitFor(/\/help for commands\.\s*\nyou> /);
    await terminal.type('Tell me everything');
    // Let some of the answer arrive (over any number of lines: synth-30M writes random text), then interrupt it.
    await terminal.waitFor(/you> Tell me everything\n[\s\S]{20,}/);
    await terminal.keys('C-c');
    const screen = await terminal.waitFor(/\[cancelled\]\nyou> $/m, 10_000);
    expect(prompts(screen)).toBe(2);
    // Still running, and the server let go of the sequence.
    await terminal.type('/history');
    await terminal.waitFor(/you: Tell me everything/);
    // The server stops at its next token once it sees the connection closed: wait for that
    // (bounded), instead of reading /health at the very moment the client hung up.
    let running = -1;
    for (let attempt = 0; attempt < 100 && running !== 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const health = (await (await fetch(`${llmchat.url}/health`)).json()) as {
        queue: { running: number };
      };
      running = health.queue.running;
    }
    expect(running).toBe(0);
    await terminal.keys('C-d');
    await terminal.waitFor(/hrchat exited 0/);
  });

  it('reads a message of several lines, shows its speed with --verbose, and keeps a stopped exchange out of what it sends', async () => {
    const terminal = await hrchat('--model synth-30M-q8_0 --max-tokens 300 --verbose --seed 7');
    await terminal.waitFor(/\/help for commands\.\s*\nyou> /);
    await terminal.type('Tell me everything');
    await terminal.waitFor(/you> Tell me everything\n[\s\S]{20,}/);
    await terminal.keys('C-c');
    await terminal.waitFor(/\[cancelled\]\nyou> $/m, 10_000);
    await terminal.type('"""');
    await terminal.type('first line');
    await terminal.type('second line"""');
    // One answer to the two lines, with its speed line.
    const screen = await terminal.waitFor(
      /\[\d+ tokens, [\d.–]+ tokens\/s, first token after \d+ ms\]\nyou> $/m,
      60_000,
    );
    expect(screen).toContain('... ');
    await terminal.type('/history');
    const history = await terminal.waitFor(/you: first line\nsecond line/);
    expect(history).toMatch(/you: Tell me everything \[cancelled: not sent again\]/);
    await terminal.keys('C-d');
    await terminal.waitFor(/hrchat exited 0/);
  });

  it('answers a prompt from a pipe or -p -, with --system and --temperature', async () => {
    const piped = await run('sh', [
      '-c',
      `printf 'Once upon a time' | node ${HRCHAT} --url ${llmchat.url} --max-tokens 8 --temperature 0 --system 'Tell a story.'`,
    ]);
    const dashed = await run('sh', [
      '-c',
      `printf 'Once upon a time' | node ${HRCHAT} --url ${llmchat.url} -p - --max-tokens 8 --temperature 0 --system 'Tell a story.' --verbose`,
    ]);
    expect(piped.stdout.trim().length).toBeGreaterThan(0);
    // Greedy: the same answer both ways; --verbose adds its line on stderr only.
    expect(dashed.stdout).toBe(piped.stdout);
    expect(dashed.stderr).toMatch(
      /^\[\d+ tokens, [\d.–]+ tokens\/s, first token after \d+ ms\]\n$/,
    );
  });

  it('continues in another terminal a conversation started in one (kept on the server)', async () => {
    const first = await hrchat('--max-tokens 12');
    await first.waitFor(/\/help for commands\.\s*\nyou> /);
    await first.type('Lily found a shiny stone');
    await first.waitFor(/you> Lily found a shiny stone\n[\s\S]+\nyou> $/m);
    await first.type('/quit');
    await first.waitFor(/hrchat exited 0/);

    const second = await hrchat('--max-tokens 12');
    await second.waitFor(/\/help for commands\.\s*\nyou> /);
    await second.type('/load');
    const listed = await second.waitFor(/(conv_[0-9a-f]+)\s+\S+\s+Lily found a shiny stone/);
    const id = /(conv_[0-9a-f]+)\s+\S+\s+Lily found a shiny stone/.exec(listed)?.[1] ?? '';
    await second.type(`/load ${id}`);
    await second.waitFor(new RegExp(`loaded ${id} \\(2 messages`));
    await second.type('What did she do?');
    await second.waitFor(/you> What did she do\?\n[\s\S]+\nyou> $/m);
    const items = (await (
      await fetch(`${llmchat.url}/v1/conversations/${id}/items?order=asc`)
    ).json()) as { data: Array<{ role: string }> };
    expect(items.data.map((item) => item.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    await second.type('/quit');
    await second.waitFor(/hrchat exited 0/);
  });

  it('one-shot -p streams plain text for pipes; an unreachable server is a clear message', async () => {
    const { stdout } = await run('node', [
      HRCHAT,
      '--url',
      llmchat.url,
      '-p',
      'Once upon a time',
      '--max-tokens',
      '16',
    ]);
    expect(stdout.trim().length).toBeGreaterThan(0);
    expect(stdout).not.toContain('\x1b[');
    const down = await run('node', [HRCHAT, '--url', 'http://127.0.0.1:1', '-p', 'hi']).catch(
      (error: unknown) => error,
    );
    expect(down).toMatchObject({ code: 1 });
    expect((down as { stderr: string }).stderr).toMatch(
      /hrchat: cannot reach http:\/\/127\.0\.0\.1:1\. Nothing answers/,
    );
  });
});

describe('hrchat against an llmchat with API keys', () => {
  let llmchat: SpawnedService;
  let dataHome: string;
  const KEY = 'hrchat-test-key';
  beforeAll(async () => {
    requireTool('tmux', 'tmux');
    llmchat = await spawnService({
      cwd: LLMCHAT_ROOT,
      env: { LLMCHAT_MODEL: `${MODELS_DIR}stories260K.gguf`, API_KEYS: KEY },
    });
    await llmchat.waitForLog((line) => line.msg === 'model loaded');
    dataHome = await mkdtemp(join(tmpdir(), 'hrchat-keys-'));
  });
  afterAll(async () => {
    await tmux('kill-server').catch(() => {});
    await llmchat.stop();
  });

  it('says a key is wanted, or refused, in one line', async () => {
    const oneShot = (env: Record<string, string>, ...args: string[]) =>
      run('node', [HRCHAT, '--url', llmchat.url, '-p', 'hi', ...args], {
        env: { ...process.env, HRSERVE_API_KEY: '', ...env },
      }).catch((error: unknown) => error as { code: number; stderr: string });
    const none = await oneShot({});
    expect(none).toMatchObject({ code: 1 });
    expect((none as { stderr: string }).stderr).toMatch(
      /^hrchat: http:\/\/127\.0\.0\.1:\d+ wants an API key \(401: the service's API_KEYS is set\)\. Give one \(hrchat: --api-key or HRSERVE_API_KEY\)\.\n$/,
    );
    const wrong = await oneShot({}, '--api-key', 'not-the-key');
    expect((wrong as { stderr: string }).stderr).toMatch(/refused the API key given \(401\)/);
  });

  it('with HRSERVE_API_KEY answers, and keeps the conversation on the server', async () => {
    const { stdout } = await run('node', [HRCHAT, '--url', llmchat.url, '-p', 'Once upon a time'], {
      env: { ...process.env, HRSERVE_API_KEY: KEY },
    });
    expect(stdout.trim().length).toBeGreaterThan(0);
    const terminal = await Terminal.open(
      `k${Math.random().toString(36).slice(2, 8)}`,
      `env XDG_DATA_HOME=${dataHome} HRSERVE_API_KEY=${KEY} node ${HRCHAT} --url ${llmchat.url} --max-tokens 8; echo "hrchat exited $?"; sleep 60`,
    );
    await terminal.waitFor(/\/help for commands\.\s*\nyou> /);
    await terminal.type('Tom had a red kite');
    await terminal.waitFor(/you> Tom had a red kite\n[\s\S]+\nyou> $/m);
    await terminal.type('/quit');
    await terminal.waitFor(/hrchat exited 0/);
    const listed = (await (
      await fetch(`${llmchat.url}/v1/conversations`, {
        headers: { authorization: `Bearer ${KEY}` },
      })
    ).json()) as { data: Array<{ metadata: { title?: string } }> };
    expect(listed.data.map((conversation) => conversation.metadata.title)).toContain(
      'Tom had a red kite',
    );
  });
});
