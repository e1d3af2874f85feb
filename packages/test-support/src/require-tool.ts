import { spawnSync } from 'node:child_process';

/**
 * For a test's `beforeAll`: throws one line naming the package to install when
 * `command` is not on PATH, instead of the obscure failure the test would meet.
 */
export function requireTool(command: string, debianPackage: string): void {
  if (spawnSync('sh', ['-c', 'command -v "$0"', command]).status === 0) return;
  throw new Error(
    `this test needs \`${command}\`, which is not on PATH: install it (Debian: apt-get install ${debianPackage})`,
  );
}
