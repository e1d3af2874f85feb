import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireTool } from '@hrserve/test-support/tools';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isOtelcolOutput, renderOtelcolFiles, staleOutputs } from './generate.js';
import { DEFAULT_BACKEND, renderOtelcolConfig } from './render-otelcol-config.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const JUST = join(REPO, 'node_modules/.bin/just');

interface CollectorConfig {
  receivers: Record<string, { protocols: Record<string, { endpoint: string }> }>;
  processors: Record<string, Record<string, unknown>>;
  exporters: Record<string, { endpoint?: string; tls?: { insecure?: boolean } }>;
  service: {
    pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
  };
}

describe('the collector configuration', () => {
  const config = parse(renderOtelcolConfig()) as CollectorConfig;

  it('receives OTLP on loopback where the services export by default, over gRPC and HTTP', () => {
    expect(config.receivers.otlp?.protocols).toEqual({
      grpc: { endpoint: '127.0.0.1:4317' },
      http: { endpoint: '127.0.0.1:4318' },
    });
  });

  it('sends traces to Jaeger or Tempo (a variable, default off the collector ports) and to debug', () => {
    expect(config.service.pipelines.traces).toEqual({
      receivers: ['otlp'],
      processors: ['memory_limiter', 'batch'],
      exporters: ['otlp_grpc/traces-backend', 'debug'],
    });
    expect(config.exporters['otlp_grpc/traces-backend']).toEqual({
      endpoint: `\${env:HRSERVE_TRACES_BACKEND:-${DEFAULT_BACKEND}}`,
      tls: { insecure: true },
    });
    expect(DEFAULT_BACKEND).not.toMatch(/:431[78]$/);
  });

  it('accepts metrics too, and defines every component a pipeline names', () => {
    expect(config.service.pipelines.metrics?.receivers).toEqual(['otlp']);
    for (const pipeline of Object.values(config.service.pipelines)) {
      // The limiter first, as the collector's documentation asks.
      expect(pipeline.processors[0]).toBe('memory_limiter');
      for (const name of pipeline.receivers) expect(config.receivers).toHaveProperty([name]);
      for (const name of pipeline.processors) expect(config.processors).toHaveProperty([name]);
      for (const name of pipeline.exporters) expect(config.exporters).toHaveProperty([name]);
    }
  });

  it('is committed up to date in otelcol/', async () => {
    expect(
      await staleOutputs(renderOtelcolFiles(), join(REPO, 'otelcol'), isOtelcolOutput),
    ).toEqual([]);
  });
});

/** A private HOME with the install layout: current -> this checkout, otelcol-contrib -> a stand-in. */
async function installLayout(): Promise<{ home: string; runtime: string; fakeBinary: string }> {
  const base = await mkdtemp(join(tmpdir(), 'hrserve-otelcol-'));
  const home = join(base, 'home');
  const runtime = join(base, 'runtime');
  const bin = join(base, 'bin');
  await mkdir(join(home, '.local/share/hrserve'), { recursive: true });
  await mkdir(runtime, { mode: 0o700 });
  await mkdir(bin);
  const fakeBinary = join(bin, 'otelcol-contrib');
  await writeFile(fakeBinary, '#!/bin/sh\nexit 0\n');
  await chmod(fakeBinary, 0o755);
  await symlink(REPO, join(home, '.local/share/hrserve/current'));
  return { home, runtime, fakeBinary };
}

describe('the collector unit', () => {
  beforeAll(() => requireTool('systemd-analyze', 'systemd'));

  it('passes systemd-analyze verify --user with nothing printed', async () => {
    const { home, runtime, fakeBinary } = await installLayout();
    await symlink(fakeBinary, join(home, '.local/share/hrserve/otelcol-contrib'));
    const { stdout, stderr } = await run(
      'systemd-analyze',
      ['verify', '--user', join(REPO, 'otelcol/hrserve-otelcol.service')],
      { env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime } },
    );
    expect(`${stdout}${stderr}`).toBe('');
  });

  it('is hardened as the services are (systemd-analyze security 4.0 or better)', async () => {
    const { home, runtime } = await installLayout();
    const { stdout } = await run(
      'systemd-analyze',
      ['security', '--offline=true', '--user', join(REPO, 'otelcol/hrserve-otelcol.service')],
      { env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime } },
    );
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
    expect(score).toBeLessThanOrEqual(4.0);
  });
});

describe('just install-otelcol', () => {
  const just = (home: string, path: string, ...args: string[]) =>
    run(JUST, args, {
      cwd: REPO,
      env: { ...process.env, HOME: home, PATH: path },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  const basePath = `${dirname(process.execPath)}:/usr/bin:/bin`;

  it('says where to get otelcol-contrib when it is not installed, and links nothing', async () => {
    const { home } = await installLayout();
    const result = await just(home, basePath, 'install-otelcol');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('otelcol-contrib is not installed');
    expect(result.stderr).toContain(
      'https://github.com/open-telemetry/opentelemetry-collector-releases/releases',
    );
    await expect(
      readlink(join(home, '.config/systemd/user/hrserve-otelcol.service')),
    ).rejects.toThrow();
  });

  it('links the unit through current and the binary it found; uninstall-otelcol unlinks both', async () => {
    const { home, fakeBinary } = await installLayout();
    const path = `${dirname(fakeBinary)}:${basePath}`;
    const result = await just(home, path, 'install-otelcol');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`hrserve-otelcol linked, running ${fakeBinary}`);
    expect(await readlink(join(home, '.config/systemd/user/hrserve-otelcol.service'))).toBe(
      join(home, '.local/share/hrserve/current/otelcol/hrserve-otelcol.service'),
    );
    expect(await readlink(join(home, '.local/share/hrserve/otelcol-contrib'))).toBe(fakeBinary);

    expect((await just(home, path, 'uninstall-otelcol')).code).toBe(0);
    await expect(
      readlink(join(home, '.config/systemd/user/hrserve-otelcol.service')),
    ).rejects.toThrow();
    await expect(readlink(join(home, '.local/share/hrserve/otelcol-contrib'))).rejects.toThrow();
  });

  it('asks for install-units first when there is no current tree', async () => {
    const home = await mkdtemp(join(tmpdir(), 'hrserve-otelcol-empty-'));
    const { fakeBinary } = await installLayout();
    const result = await just(home, `${dirname(fakeBinary)}:${basePath}`, 'install-otelcol');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("run 'just install-units' first");
  });
});
