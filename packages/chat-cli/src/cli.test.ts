import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const HRCHAT = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const run = promisify(execFile);

/** hrchat with these arguments, no server needed: what a user sees and the exit code. */
async function hrchat(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [HRCHAT, ...args], { timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('hrchat on a wrong command line', () => {
  it.each([
    [['-p', 'hi', '--temp', '0'], /^hrchat: Unknown option '--temp'/],
    [
      ['-p', 'hi', '--temperature', 'hot'],
      /^hrchat: --temperature takes a number from 0 to 2, not 'hot'/,
    ],
    [['-p', 'hi', '--seed', '1.5'], /^hrchat: --seed takes a whole number, not '1.5'/],
    [
      ['--api', 'grpc'],
      /^hrchat: --api takes one of auto, openai, ollama-chat, ollama-generate, not 'grpc'/,
    ],
    [['--max-tokens', 'lots'], /^hrchat: --max-tokens takes a positive whole number, not 'lots'/],
  ])('%j: one line naming the option, then the usage, exit 2', async (args, first) => {
    const { code, stderr } = await hrchat(...args);
    expect(code).toBe(2);
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(first);
    expect(lines[1]).toMatch(/^usage: hrchat /);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
