import type { SpawnedService } from '@hrserve/test-support';
import { FakeNotifySocket } from '@hrserve/test-support/notify-socket';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnHello } from './__fixtures__/spawn-hello.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('under a Type=notify unit (a fake NOTIFY_SOCKET)', () => {
  it('reports READY=1 once it serves and STOPPING=1 when it drains, then exits 0', async () => {
    const socket = await FakeNotifySocket.start();
    cleanup.push(() => socket.stop());
    const service: SpawnedService = await spawnHello({ NOTIFY_SOCKET: socket.path });
    cleanup.push(() => service.stop());

    const ready = await socket.waitFor((message) => message.READY === '1');
    expect(ready.STATUS).toBe(`serving on ${service.url}`);
    expect(ready.MAINPID).toBe(String(service.child.pid));
    expect((await fetch(`${service.url}/health`)).status).toBe(200);

    service.child.kill('SIGTERM');
    const stopping = await socket.waitFor((message) => message.STOPPING === '1');
    expect(stopping.STATUS).toMatch(/draining/);
    expect(await service.exited).toEqual({ code: 0, signal: null });
    // The order systemd saw: ready before stopping, nothing after.
    const order = socket.messages.map((message) =>
      message.READY ? 'ready' : message.STOPPING ? 'stopping' : 'status',
    );
    expect(order.indexOf('ready')).toBeLessThan(order.indexOf('stopping'));
  });

  it('says so in its log, once, when systemd-notify cannot be run, and serves anyway', async () => {
    const service = await spawnHello({ NOTIFY_SOCKET: '/nonexistent/notify.sock' });
    cleanup.push(() => service.stop());
    const warning = await service.waitForLog((line) =>
      String(line.msg).startsWith('could not notify systemd'),
    );
    expect(warning.level).toBe(40);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });
});
