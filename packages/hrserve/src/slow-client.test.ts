import { connect } from 'node:net';
import { idleConnection, trickle } from '@hrserve/test-support/sockets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './__fixtures__/test-app.js';

describe('clients too slow to send their request', () => {
  let testApp: TestApp;
  let port: number;
  beforeAll(async () => {
    testApp = await buildTestApp({ REQUEST_TIMEOUT_MS: '600', MAX_CONNECTIONS: '8' });
    await testApp.app.listen({ port: 0, host: '127.0.0.1' });
    port = (testApp.app.server.address() as { port: number }).port;
  });
  afterAll(() => testApp.app.close());

  it('a body trickled a byte at a time is cut with 408 once REQUEST_TIMEOUT_MS has passed', async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    // 230 bytes at 20 a second take 11.5 s: with Node's 30 s check they all arrived (200).
    const answer = await trickle(
      port,
      `POST /v1/zod HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
      50,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"request_timeout"');
  });

  it('headers trickled a byte at a time are cut the same way', async () => {
    const head = 'GET /v1/ok HTTP/1.1\r\nHost: slow\r\nX-Pad: '.padEnd(400, 'a');
    const answer = await trickle(port, '', `${head}\r\n\r\n`, 50);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses connections beyond MAX_CONNECTIONS (idle sockets cannot exhaust the service)', async () => {
    const open = await Promise.all(Array.from({ length: 8 }, () => idleConnection(port)));
    const extra = connect(port, '127.0.0.1');
    extra.on('error', () => {});
    await new Promise((resolve) => extra.on('close', resolve));
    // The ninth was dropped while the eight stay open.
    expect(open.every((socket) => !socket.destroyed)).toBe(true);
    for (const socket of open) socket.destroy();
  });

  it('closes connections that send nothing (they would hold MAX_CONNECTIONS for good)', async () => {
    // As many as the service accepts: Node's own deadlines left these open (measured: 16 of 16
    // still open 4× REQUEST_TIMEOUT_MS later), so a client could take every place and keep it.
    const sockets = await Promise.all(Array.from({ length: 8 }, () => idleConnection(port)));
    const closed = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            if (socket.destroyed) resolve(true);
            socket.on('close', () => resolve(true));
            // Bounded: far past REQUEST_TIMEOUT_MS (600 ms) and the check interval.
            setTimeout(() => resolve(false), 10_000).unref();
          }),
      ),
    );
    expect(closed.every(Boolean)).toBe(true);
    expect(sockets.every((socket) => socket.bytesRead === 0)).toBe(true);
  });
});

describe('closing with connections open that never sent a request', () => {
  it('closes them at once rather than waiting for REQUEST_TIMEOUT_MS', async () => {
    // Five minutes: a close that waited for the deadline would outlast the test's timeout.
    const testApp = await buildTestApp({ REQUEST_TIMEOUT_MS: '300000' });
    await testApp.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = testApp.app.server.address() as { port: number };
    const silent = await idleConnection(port);
    // A keep-alive connection that has had its answer is closed too.
    expect((await fetch(`http://127.0.0.1:${port}/live`)).status).toBe(200);
    await testApp.app.close();
    await new Promise((resolve) =>
      silent.destroyed ? resolve(null) : silent.on('close', resolve),
    );
    expect(silent.bytesRead).toBe(0);
  });
});
