import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpawnedService } from '@hrserve/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnHello } from './__fixtures__/spawn-hello.js';

const running: SpawnedService[] = [];
async function start(env: Record<string, string> = {}): Promise<SpawnedService> {
  const service = await spawnHello(env);
  running.push(service);
  return service;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

async function readAll(response: Response): Promise<string> {
  return await response.text();
}

describe('start', () => {
  it('logs the URL and the Node.js it runs on, with no warning on a supported one', async () => {
    const service = await start();
    const serving = await service.waitForLog((line) => line.msg === 'serving');
    expect(serving).toMatchObject({ url: service.url, node: process.version });
    expect(service.logs.filter((line) => line.level === 40)).toEqual([]);
  });
});

describe('start under systemd', () => {
  it("clamps a drain longer than the unit's TimeoutStopSec and says how to raise it", async () => {
    // A systemctl that answers as a user manager would for a unit with TimeoutStopSec=10.
    const bin = await mkdtemp(join(tmpdir(), 'fake-systemctl-'));
    await writeFile(join(bin, 'systemctl'), '#!/bin/sh\necho 10s\n', { mode: 0o755 });
    const service = await start({
      INVOCATION_ID: '0123456789abcdef',
      PATH: `${bin}:${process.env.PATH}`,
      DRAIN_TIMEOUT_MS: '30000',
      TELEMETRY_SHUTDOWN_TIMEOUT_MS: '2000',
    });
    const warning = await service.waitForLog((line) =>
      String(line.msg).startsWith('DRAIN_TIMEOUT_MS=30000'),
    );
    expect(warning.level).toBe(40);
    expect(String(warning.msg)).toContain('draining for at most 6000 ms');
    expect(String(warning.msg)).toContain('TimeoutStopSec=34');
  });
});

describe('graceful shutdown on SIGTERM', () => {
  it('lets an in-flight stream finish, answers draining meanwhile, then exits 0', async () => {
    const service = await start({ DRAIN_TIMEOUT_MS: '10000' });
    const stream = await fetch(`${service.url}/v1/count?to=15&interval_ms=100`);
    expect(stream.status).toBe(200);
    const body = readAll(stream);

    service.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { status: string }).status).toBe('draining');
    expect((await fetch(`${service.url}/live`)).status).toBe(200);

    const refused = await fetch(`${service.url}/v1/hello`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'service_draining',
    );

    expect(await body).toBe(Array.from({ length: 15 }, (_, i) => `${i + 1}\n`).join(''));
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.logs.some((line) => line.msg === 'stopped')).toBe(true);
  });

  it('cuts what is still running at the drain timeout and still exits 0', async () => {
    const service = await start({ DRAIN_TIMEOUT_MS: '500' });
    const stream = await fetch(`${service.url}/v1/count?to=100&interval_ms=100`);
    const body = readAll(stream).catch(() => 'cut');
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(3000);
    expect(await body).not.toContain('100\n');
    expect(
      service.logs.some(
        (line) => line.msg === 'drain timeout reached: closing the remaining connections',
      ),
    ).toBe(true);
  });
});

/** A TCP server that accepts connections and never answers: the worst collector. */
async function blackHole(): Promise<{ endpoint: string; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { endpoint: `http://127.0.0.1:${address.port}`, server };
}

/**
 * Median latency of each URL, measured in interleaved rounds so that whatever
 * else loads the machine weighs on every service alike.
 */
async function interleavedMedianLatencyMs(urls: string[], rounds: number): Promise<number[]> {
  const samples = urls.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, url] of urls.entries()) {
      const started = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      samples[index]?.push(performance.now() - started);
    }
  }
  return samples.map((list) => {
    list.sort((a, b) => a - b);
    return list[Math.floor(list.length / 2)] ?? Number.NaN;
  });
}

describe('a collector that is down or black-holing', () => {
  it('neither slows requests nor delays shutdown past its bound', async () => {
    const hole = await blackHole();
    try {
      const baseline = await start({ OTEL_SDK_DISABLED: 'true' });
      const down = await start({
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      });
      const stuck = await start({
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: hole.endpoint,
        TELEMETRY_SHUTDOWN_TIMEOUT_MS: '1000',
      });
      const urls = [baseline, down, stuck].map((service) => `${service.url}/v1/hello`);
      await interleavedMedianLatencyMs(urls, 20); // warm-up: JIT, connections
      const [baseMs = 0, downMs, stuckMs] = await interleavedMedianLatencyMs(urls, 80);
      // Exports happen off the request path: a dead collector may cost span bookkeeping, never a wait on the network.
      expect(downMs).toBeLessThan(baseMs + 5);
      expect(stuckMs).toBeLessThan(baseMs + 5);

      // Spans are queued for the black hole; shutdown must still be bounded by TELEMETRY_SHUTDOWN_TIMEOUT_MS.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const downHealth = (await (await fetch(`${down.url}/health`)).json()) as {
        status: string;
        telemetry: { last_export: { ok: boolean } | null };
      };
      expect(downHealth.status).toBe('ok');
      expect(downHealth.telemetry.last_export?.ok).toBe(false);
      const signalledAt = Date.now();
      stuck.child.kill('SIGTERM');
      down.child.kill('SIGTERM');
      expect(await stuck.exited).toEqual({ code: 0, signal: null });
      expect(await down.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(4000);

      // The dead collector shows in /health before the stop, as a failed last export.
    } finally {
      hole.server.close();
    }
  });
});

describe('configuration errors', () => {
  it('exits 78 listing every bad variable and how to fix it', async () => {
    const failed = spawnHello({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      HELLO_UPSTREAM_URL: 'not a url',
    });
    await expect(failed).rejects.toThrow(/exited \(78\)/);
    const message = String(await failed.catch((error: Error) => error.message));
    expect(message).toContain('PORT="eighty"');
    expect(message).toContain('LOG_LEVEL="loud"');
    expect(message).toContain('HELLO_UPSTREAM_URL="not a url"');
    expect(message).toContain('TCP port to listen on');
  });

  it('under its unit, a PORT other than the port table says is refused: clients would not find it', async () => {
    const table = join(await mkdtemp(join(tmpdir(), 'ports-')), 'ports.json');
    await writeFile(table, JSON.stringify({ hello: 1 }));
    const failed = spawnHello({ INVOCATION_ID: '0123', HRSERVE_PORTS_FILE: table, PORT: '2999' });
    await expect(failed).rejects.toThrow(/exited \(78\)/);
    const message = String(await failed.catch((error: Error) => error.message));
    expect(message).toContain(
      'PORT=2999 differs from the port table (systemd/ports.json: hello is on 1)',
    );
  });

  it('a port already in use: one line naming it and who to ask, exit 78 (no restart loop)', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const failed = spawnHello({ PORT: String(port) });
      await expect(failed).rejects.toThrow(/exited \(78\)/);
      const message = String(await failed.catch((error: Error) => error.message));
      expect(message).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(message).toContain(`ss -ltnp 'sport = :${port}'`);
      // One line, not a stack.
      expect(message).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });
});
