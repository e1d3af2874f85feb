import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseConfigSchema, buildApp, loadConfig } from 'hrserve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cells, fleet, renderTable } from './fleet.js';

/** A port nothing listens on: bound, then closed. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the fleet at a glance', () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  let port: number;
  beforeAll(async () => {
    const config = loadConfig(baseConfigSchema({ name: 'demo', port: 0 }), {
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'silent',
    });
    app = await buildApp({ config, version: '1.2.3' });
    app.health.addDetail('models', () => [{ id: 'stories260K' }]);
    app.health.addDetail('queue', () => ({ running: 1, waiting: 2, rejected: 3 }));
    app.health.set('ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it("reads each service's /health into one row, and says when nothing listens", async () => {
    const down = await freePort();
    const rows = await fleet({ demo: port, ghost: down }, { systemd: false });
    const [demo, ghost] = rows.map(cells);
    expect(demo?.slice(0, 5)).toEqual(['demo', String(port), '-', 'ok', '1.2.3']);
    expect(demo?.[6]).toBe('stories260K');
    expect(demo?.[7]).toBe('1/2/3');
    expect(demo?.[8]).toMatch(/^\d+ MiB$/);
    expect(demo?.[9]).toBe('off');
    expect(ghost?.slice(0, 4)).toEqual(['ghost', String(down), '-', 'down (nothing listens)']);
    const table = renderTable(rows).split('\n');
    expect(table[0]).toMatch(/^service\s+port\s+unit\s+health\s+version/);
    expect(table).toHaveLength(3);
  });

  it('runs as a command on a port table', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const file = join(await mkdtemp(join(tmpdir(), 'ports-')), 'ports.json');
    await writeFile(file, JSON.stringify({ demo: port }));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/fleet-status.ts', '--ports', file, '--no-systemd'],
      { cwd: join(import.meta.dirname, '..') },
    );
    expect(stdout).toContain('demo');
    expect(stdout).toContain('ok');
    expect(stdout).toContain('1.2.3');
  });
});
