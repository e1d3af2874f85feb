import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@hrserve/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshClone, freshClone } from './fresh-clone.js';
import {
  type BackgroundCommand,
  newcomerEnv,
  runCommand,
  startInBackground,
} from './run-command.js';
import { type ShellCommand, shellBlocks } from './shell-blocks.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const blocks = shellBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'));
/** The line of `.ci/run` that runs the README's test command (the one after its marker comment). */
const ciRunLines = readFileSync(join(REPO, '.ci/run'), 'utf8').split('\n');
const ciCommandLine =
  ciRunLines[ciRunLines.findIndex((line) => line.startsWith("# The README's test command")) + 1] ??
  '';

/** Longest one command may take: an install from an empty node_modules is the slowest. */
const COMMAND_TIMEOUT_MS = 480_000;

/*
 * Two kinds of command are not simply run to completion:
 * - "(foreground)" in its comment: a server that runs until Ctrl-C. It is started in
 *   the background, awaited on the port its comment names, and kept up for the blocks
 *   after it (the curl and hrchat examples talk to it).
 * - the line `.ci/run` runs verbatim (the check command): CI runs it; running it here
 *   would run this test again inside itself.
 * Each command runs in a bash of its own, so a block's lines must not rely on one
 * another's `cd` or variables (none of the README's do).
 */
const isForeground = (command: ShellCommand) => command.comment.includes('(foreground)');
const isCiCommand = (command: ShellCommand) =>
  command.code !== '' && ciCommandLine.startsWith(command.code);

const title = (command: ShellCommand | undefined) => {
  const first = command?.code.split('\n')[0] ?? '';
  return first.length > 90 ? `${first.slice(0, 87)}...` : first;
};

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(2_000),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

describe('the README, run as written from a fresh clone beside ../shared', () => {
  let clone: FreshClone | undefined;
  let env: NodeJS.ProcessEnv = {};
  const servers: BackgroundCommand[] = [];

  beforeAll(() => {
    requireTool('git', 'git');
    requireTool('curl', 'curl');
    clone = freshClone(REPO);
    env = newcomerEnv(clone.home);
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    clone?.remove();
  });

  const startServer = async (command: ShellCommand, cwd: string) => {
    const port = Number(/port (\d+)/.exec(command.comment)?.[1]);
    expect(port, `"${command.text}": its comment names no port`).toBeGreaterThan(0);
    if (await healthy(port)) throw new Error(`port ${port} is in use already: stop what serves it`);
    const server = startInBackground(command.text, { cwd, env });
    servers.push(server);
    const deadline = Date.now() + COMMAND_TIMEOUT_MS;
    let exited = false;
    void server.exited.then(() => {
      exited = true;
    });
    while (!(await healthy(port))) {
      if (exited || Date.now() > deadline) {
        throw new Error(`"${command.text}" never served port ${port}:\n${server.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  it('opens with the two commands: one starts llmchat, the other is what CI runs', () => {
    const [first] = blocks;
    expect(first?.commands).toHaveLength(2);
    expect(first?.commands[0] && isForeground(first.commands[0])).toBe(true);
    expect(first?.commands[1] && isCiCommand(first.commands[1])).toBe(true);
  });

  for (const block of blocks) {
    const name = `README.md:${block.line} ${title(block.commands[0])}`;
    if (block.untested) {
      it.skip(`${name} (untested: ${block.untested})`, () => {});
      continue;
    }
    it(name, async () => {
      if (!clone) throw new Error('no clone');
      for (const command of block.commands) {
        if (isCiCommand(command)) continue;
        if (isForeground(command)) {
          await startServer(command, clone.dir);
          continue;
        }
        const result = await runCommand(command.text, {
          cwd: clone.dir,
          env,
          timeoutMs: COMMAND_TIMEOUT_MS,
        });
        const report = `$ ${command.text}\n${result.stdout}\n${result.stderr}`;
        expect(result.code, report).toBe(0);
        // An HTTP error still exits curl 0: its body must not be an OpenAI or Ollama error.
        if (command.code.startsWith('curl ')) {
          expect(result.stdout, report).not.toMatch(/^\{"error":|"error":\{/);
          expect(result.stdout.trim(), report).not.toBe('');
        }
      }
    });
  }
});
