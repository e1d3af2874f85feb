import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireTool } from '@hrserve/test-support/tools';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderAll } from './generate.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The install layout `just install-units` makes, in a private HOME, so that
 * systemd-analyze can resolve %h, the node binary and the working directory.
 */
async function installLayout(): Promise<{ home: string; runtime: string }> {
  const base = await mkdtemp(join(tmpdir(), 'hrserve-units-'));
  const home = join(base, 'home');
  const runtime = join(base, 'runtime');
  await mkdir(join(home, '.local/share/hrserve'), { recursive: true });
  await mkdir(runtime, { mode: 0o700 });
  await symlink(REPO, join(home, '.local/share/hrserve/current'));
  await symlink(process.execPath, join(home, '.local/share/hrserve/node'));
  return { home, runtime };
}

describe('systemd-analyze verify --user', () => {
  beforeAll(() => requireTool('systemd-analyze', 'systemd'));

  it('passes every generated unit with nothing printed', async () => {
    const { home, runtime } = await installLayout();
    const units = [...(await renderAll(REPO)).keys()].filter((name) => name.endsWith('.service'));
    expect(units).toContain('llmchat.service');
    for (const unit of units) {
      // Unknown keys are only warnings there, so any output at all counts as a failure.
      const { stdout, stderr } = await run(
        'systemd-analyze',
        ['verify', '--user', join(REPO, 'systemd', unit)],
        {
          env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime },
        },
      );
      expect(`${stdout}${stderr}`).toBe('');
    }
  });

  it('rates every unit 4.0 or better with systemd-analyze security (the README states the score)', async () => {
    const { home, runtime } = await installLayout();
    const units = [...(await renderAll(REPO)).keys()].filter((name) => name.endsWith('.service'));
    for (const unit of units) {
      const { stdout } = await run(
        'systemd-analyze',
        ['security', '--offline=true', '--user', join(REPO, 'systemd', unit)],
        { env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime } },
      );
      const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
      expect(
        score,
        `${unit}: ${stdout
          .split('\n')
          .filter((line) => line.startsWith('✗'))
          .join('\n')}`,
      ).toBeLessThanOrEqual(4.0);
    }
  });
});

describe('the justfile', () => {
  const just = (...args: string[]) =>
    run(join(REPO, 'node_modules/.bin/just'), args, { cwd: REPO });

  it('lists the operator recipes', async () => {
    const { stdout } = await just('--list');
    for (const recipe of [
      'sync service',
      'start service',
      'stop service',
      'restart service',
      'status service=""',
      'health',
      'restart-all',
      'logs service',
      'dev service',
      'install-units',
      'uninstall-units',
      'upgrade',
      'rollback',
      'releases',
      'config service',
      'gen',
      'port service',
      'test',
      'bench',
      'gpu-check *args',
    ]) {
      expect(stdout).toContain(recipe);
    }
  });

  it('lists the recipes when run with no recipe, `just` being no command on PATH', async () => {
    const { stdout } = await run(join(REPO, 'node_modules/.bin/just'), [], {
      cwd: REPO,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    });
    expect(stdout).toContain('install-units');
  });

  it('prints a port from the port table', async () => {
    expect((await just('port', 'llmchat')).stdout).toBe('2020\n');
    expect((await just('port', 'embed')).stdout).toBe('2021\n');
    await expect(just('port', 'nope')).rejects.toMatchObject({
      stderr: expect.stringContaining('Unknown service "nope". Services: console, embed, llmchat.'),
    });
  });

  it('says clearly when systemd is not there, instead of failing obscurely', async () => {
    const result = await just('status', 'llmchat').then(
      () => undefined,
      (error: { stderr: string }) => error.stderr,
    );
    // Where a user manager runs, the status simply works.
    if (result !== undefined) expect(result).toContain('systemd is not available here');
  });
});

describe('just install-units', () => {
  /** install-units in a private HOME with `nodeDir` first on PATH. */
  const installUnits = async (nodeDir: string, gpuDevices = '/nonexistent/dri') => {
    const home = await mkdtemp(join(tmpdir(), 'hrserve-install-'));
    const result = await run(join(REPO, 'node_modules/.bin/just'), ['install-units'], {
      cwd: REPO,
      env: {
        ...process.env,
        HOME: home,
        PATH: `${nodeDir}:/usr/bin:/bin`,
        HRSERVE_GPU_DEVICES: gpuDevices,
      },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    return { home, ...result };
  };

  it('links the node on PATH when it is supported, and the units', async () => {
    const { home, code, stderr } = await installUnits(dirname(process.execPath));
    expect(code, stderr).toBe(0);
    expect(await readlink(join(home, '.local/share/hrserve/node'))).toBe(process.execPath);
    // Through `current`: an upgrade or rollback switches the units' definitions with the tree.
    expect(await readlink(join(home, '.local/share/hrserve/current'))).toBe(
      REPO.replace(/\/$/, ''),
    );
    expect(await readlink(join(home, '.config/systemd/user/llmchat.service'))).toBe(
      join(home, '.local/share/hrserve/current/systemd/llmchat.service'),
    );
  });

  it('gives GPU services /dev (a drop-in) only on a host with GPU device nodes', async () => {
    const withoutGpu = await installUnits(dirname(process.execPath));
    expect(withoutGpu.code).toBe(0);
    await expect(
      readlink(join(withoutGpu.home, '.config/systemd/user/llmchat.service.d/gpu.conf')),
    ).rejects.toThrow();

    const devices = await mkdtemp(join(tmpdir(), 'fake-dri-'));
    const withGpu = await installUnits(dirname(process.execPath), `/nonexistent/kfd ${devices}`);
    expect(withGpu.code, withGpu.stderr).toBe(0);
    expect(withGpu.stdout).toContain(`GPU device nodes found (${devices})`);
    expect(
      await readlink(join(withGpu.home, '.config/systemd/user/llmchat.service.d/gpu.conf')),
    ).toBe(join(withGpu.home, '.local/share/hrserve/current/systemd/llmchat.gpu.conf'));
  });

  it('creates what the units write (model cache) and the settings directory, owner only', async () => {
    const { home, code } = await installUnits(dirname(process.execPath));
    expect(code).toBe(0);
    const mode = async (path: string) => ((await stat(join(home, path))).mode & 0o777).toString(8);
    // ProtectHome=read-only skips a ReadWritePaths that is missing: the first hf: download failed.
    expect(await mode('.cache/hrserve')).toBe('700');
    expect(await mode('.cache/hrserve/models')).toBe('700');
    expect(await mode('.config/hrserve')).toBe('700');
  });

  it('just config <service> makes a settings file only its owner reads; uninstall-units removes the links', async () => {
    const { home } = await installUnits(dirname(process.execPath));
    const env = { ...process.env, HOME: home, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    const config = await run(join(REPO, 'node_modules/.bin/just'), ['config', 'llmchat'], {
      cwd: REPO,
      env,
    });
    const path = join(home, '.config/hrserve/llmchat.env');
    expect(config.stdout.trim()).toBe(path);
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    await run(join(REPO, 'node_modules/.bin/just'), ['uninstall-units'], { cwd: REPO, env });
    await expect(readlink(join(home, '.config/systemd/user/llmchat.service'))).rejects.toThrow();
    // Settings stay.
    expect((await stat(path)).isFile()).toBe(true);
  });

  it('refuses a node older than supported, saying how to fix it, and links nothing', async () => {
    const oldNode = await mkdtemp(join(tmpdir(), 'hrserve-old-node-'));
    // A node that says it is 20.20.2 and otherwise runs (the `just` shim itself runs on node).
    await writeFile(
      join(oldNode, 'node'),
      `#!/bin/sh\n[ "$*" = "-p process.versions.node" ] && { echo 20.20.2; exit 0; }\nexec "${process.execPath}" "$@"\n`,
    );
    await chmod(join(oldNode, 'node'), 0o755);
    const { home, code, stderr } = await installUnits(oldNode);
    expect(code).toBe(1);
    expect(stderr).toContain(`Node.js 20.20.2 (${oldNode}/node); hrserve needs 24.11+ or 26+`);
    expect(stderr).toContain('./pnpm exec just install-units');
    await expect(readlink(join(home, '.local/share/hrserve/node'))).rejects.toThrow();
  });
});
