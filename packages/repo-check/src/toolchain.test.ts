import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shellBlocks } from './shell-blocks.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

interface Manifest {
  name: string;
  engines?: { node?: string };
  packageManager?: string;
  devEngines?: { runtime?: { name: string; version: string } };
}
const root = JSON.parse(read('package.json')) as Manifest;
const workspaceManifests = execFileSync('git', ['ls-files', '*package.json'], {
  cwd: REPO,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean)
  .map((path) => ({ path, manifest: JSON.parse(read(path)) as Manifest }));

describe('the toolchain pins agree', () => {
  const supported = root.engines?.node;

  it('one supported Node range: engines (every package that states one) and devEngines', () => {
    expect(supported).toBe('^24.11.0 || >=26.0.0');
    expect(root.devEngines?.runtime).toMatchObject({ name: 'node', version: supported });
    for (const { path, manifest } of workspaceManifests) {
      if (manifest.engines?.node !== undefined) expect(manifest.engines.node, path).toBe(supported);
    }
  });

  it('.nvmrc and .node-version name the primary LTS, which ./pnpm fetches by default', () => {
    expect(read('.nvmrc').trim()).toBe('24');
    expect(read('.node-version').trim()).toBe('24');
    expect(read('pnpm')).toContain('DEFAULT_NODE_MAJOR=24\n');
  });

  it('./pnpm runs the pnpm that packageManager pins, and CI and the README use ./pnpm', () => {
    const pinned = /^PNPM_VERSION=(\S+)/m.exec(read('pnpm'))?.[1];
    expect(root.packageManager).toBe(`pnpm@${pinned}`);
    expect(read('.ci/run')).toContain('./pnpm install --frozen-lockfile && ./pnpm check');
    const readme = read('README.md');
    // Bare `pnpm`/`just` are "command not found" for a newcomer; every command goes through ./pnpm.
    for (const block of shellBlocks(readme)) {
      for (const { code } of block.commands) {
        expect(code, `README.md:${block.line}`).not.toMatch(/^(pnpm|just|npx) /);
      }
    }
    expect(readme).not.toMatch(/`(pnpm|npx -y pnpm)[ @]/);
  });

  it('./pnpm uses a supported node on PATH as it is, and names the Node it runs', () => {
    const printed = execFileSync(join(REPO, 'pnpm'), ['exec', 'node', '--version'], {
      cwd: REPO,
      encoding: 'utf8',
      // The Node running this test is a supported one: first on PATH, nothing is fetched.
      env: {
        ...process.env,
        HRSERVE_NODE_VERSION: '',
        PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}`,
      },
    });
    expect(printed.trim()).toBe(process.version);
  });
});
