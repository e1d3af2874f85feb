import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'hrserve';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleApp } from './app.js';
import { consoleConfigSchema } from './config.js';
import { ServiceDirectory } from './services.js';
import { placeholderWebRoot } from './test/web-root.js';

/*
 * The proxy against a scripted upstream: bodies stream both ways unbuffered, a browser that
 * goes away aborts the upstream request (answering or still queued), the services' key is
 * added and the browser's cookies are not passed on.
 */

type Handler = (request: IncomingMessage, response: ServerResponse) => void;
let handler: Handler = (_request, response) => response.end();
let upstream: Server;
let upstreamUrl: string;
let app: FastifyInstance;
let consoleUrl: string;

/** A call to the console with its key (the tests' stand-in for a logged-in browser). */
function call(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: { 'x-api-key': 'console-key', ...(init.headers as Record<string, string>) },
  });
}

beforeAll(async () => {
  upstream = createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const config = consoleConfigSchema.parse({
    PORT: '0',
    LOG_LEVEL: 'silent',
    API_KEYS: 'console-key',
    CONSOLE_SERVICE_API_KEY: 'service-key',
  });
  ({ app } = await buildConsoleApp(config, {
    services: new ServiceDirectory([
      { name: 'up', url: upstreamUrl },
      { name: 'down', url: 'http://127.0.0.1:1' },
    ]),
    webRoot: placeholderWebRoot(),
  }));
  consoleUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

afterEach(() => {
  handler = (_request, response) => response.end();
});

describe('the proxy', () => {
  it('streams an answer through chunk by chunk (each arrives before the next is written)', async () => {
    let next: (() => void) | undefined;
    handler = async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 5; i++) {
        const received = new Promise<void>((resolve) => {
          next = resolve;
        });
        response.write(`data: {"n":${i}}\n\n`);
        await received;
      }
      response.end();
    };
    const response = await call(`${consoleUrl}/console/services/up/v1/stream`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    if (!response.body) throw new Error('no body');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const seen: string[] = [];
    let text = '';
    while (seen.length < 5) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      for (const [, n = ''] of text.matchAll(/\{"n":(\d)\}/g)) {
        if (!seen.includes(n)) {
          seen.push(n);
          // The upstream writes the next event only now: no buffering anywhere between.
          next?.();
        }
      }
    }
    expect(seen).toEqual(['0', '1', '2', '3', '4']);
  });

  it('aborts the upstream request when the browser goes away mid-answer', async () => {
    const upstreamClosed = new Promise<boolean>((resolve) => {
      handler = (request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: {"n":0}\n\n');
        response.on('close', () => resolve(!response.writableFinished));
        request.resume();
      };
    });
    const controller = new AbortController();
    const response = await call(`${consoleUrl}/console/services/up/v1/stream`, {
      signal: controller.signal,
    });
    await response.body?.getReader().read();
    controller.abort();
    expect(await upstreamClosed).toBe(true);
  });

  it('aborts the upstream request when the browser goes away before any answer (queued)', async () => {
    const upstreamClosed = new Promise<boolean>((resolve) => {
      handler = (request, response) => {
        // A service whose queue holds the request: no headers yet.
        request.resume();
        response.on('close', () => resolve(!response.headersSent));
      };
    });
    const controller = new AbortController();
    const request = call(`${consoleUrl}/console/services/up/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"m"}',
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    await request;
    expect(await upstreamClosed).toBe(true);
  });

  it("passes bodies and answers through as they are, with the services' key and without the browser's cookies", async () => {
    let seen: {
      method?: string;
      url?: string;
      headers?: IncomingMessage['headers'];
      body?: string;
    } = {};
    handler = (request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen = { method: request.method, url: request.url, headers: request.headers, body };
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        response.end('{"error":{"message":"busy","code":"rate_limit_exceeded"}}');
      });
    };
    const multipart =
      '--b\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b--\r\n';
    const response = await call(`${consoleUrl}/console/services/up/v1/files?x=1&y=%20`, {
      method: 'POST',
      headers: {
        'content-type': 'multipart/form-data; boundary=b',
        cookie: 'hrserve_console=secret-session',
        authorization: 'Bearer console-key',
        'x-client-job-id': 'job-7',
      },
      body: multipart,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({
      error: { message: 'busy', code: 'rate_limit_exceeded' },
    });
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/files?x=1&y=%20', body: multipart });
    expect(seen.headers).toMatchObject({
      authorization: 'Bearer service-key',
      'content-type': 'multipart/form-data; boundary=b',
      'x-client-job-id': 'job-7',
    });
    expect(seen.headers?.cookie).toBeUndefined();
    expect(seen.headers?.['x-request-id']).toBe(response.headers.get('x-request-id'));
    // A service's answer opened in a tab is inert: it cannot run script as the console.
    expect(response.headers.get('content-security-policy')).toContain('sandbox');
  });

  it("answers a service's refusal of the console's key as the console's setting to fix, not a logout", async () => {
    handler = (_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"Incorrect API key provided.","code":"invalid_api_key"}}');
    };
    const response = await call(`${consoleUrl}/console/services/up/v1/models`);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      error: {
        code: 'service_auth_failed',
        message: expect.stringContaining('CONSOLE_SERVICE_API_KEY'),
      },
    });
  });

  it('names the services it knows for an unknown one, and says how to start one that is down', async () => {
    const unknown = await call(`${consoleUrl}/console/services/nope/v1/models`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { code: 'unknown_service', message: expect.stringContaining('up, down') },
    });
    const down = await call(`${consoleUrl}/console/services/down/v1/models`);
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({
      error: {
        code: 'service_unreachable',
        message: expect.stringContaining('just start down'),
      },
    });
  });

  it('never reaches an address the browser names: a path is always under the service', async () => {
    let path: string | undefined;
    handler = (request, response) => {
      path = request.url;
      response.end('{}');
    };
    const response = await call(`${consoleUrl}/console/services/up/%2F%2Fevil.example/x`);
    expect(response.status).toBe(200);
    // Passed on still encoded, to the service's own address.
    expect(path).toBe('/%2F%2Fevil.example/x');
    const raw = await call(`${consoleUrl}/console/services/up//evil.example/y?z=1`);
    expect(raw.status).toBe(200);
    expect(path).toBe('//evil.example/y?z=1');
  });
});
