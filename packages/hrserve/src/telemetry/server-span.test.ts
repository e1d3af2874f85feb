import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InMemoryTracing, startInMemoryTracing } from '../__fixtures__/in-memory-tracing.js';
import { buildTestApp, type TestApp } from '../__fixtures__/test-app.js';
import { startSpan } from './spans.js';

/** A stream whose second chunk and whose end wait for the test: one request at a time. */
function gatedStream() {
  const gates = {
    last: Promise.withResolvers<void>(),
    end: Promise.withResolvers<void>(),
  };
  const body = async function* () {
    yield 'first\n';
    await gates.last.promise;
    yield 'last\n';
    await gates.end.promise;
  };
  return { gates, body };
}

/** Reads `reader` until the text received so far contains `expected` (or the stream ends). */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  received: { text: string },
  expected: string,
): Promise<void> {
  const decoder = new TextDecoder();
  while (!received.text.includes(expected)) {
    const { value, done } = await reader.read();
    if (done) return;
    received.text += decoder.decode(value);
  }
}

/** The spans the server made for the trace of a response (the test's own fetch span left out). */
function serverSide(spans: ReadableSpan[], traceId: string): ReadableSpan[] {
  return spans.filter(
    (span) => span.spanContext().traceId === traceId && span.kind !== SpanKind.CLIENT,
  );
}

describe('one server span per request', () => {
  let tracing: InMemoryTracing;
  let testApp: TestApp;
  let secured: TestApp;
  let url: string;
  let securedUrl: string;
  let stream = gatedStream();

  beforeAll(async () => {
    tracing = startInMemoryTracing();
    testApp = await buildTestApp();
    testApp.app.get('/v1/stream', async (_request, reply) => {
      reply.type('text/plain');
      return Readable.from(stream.body());
    });
    testApp.app.get('/v1/items/:id', async (request) =>
      startSpan(trace.getTracer('test'), 'items.lookup', {}, async () => ({
        id: (request.params as { id: string }).id,
      })),
    );
    url = await testApp.app.listen({ port: 0, host: '127.0.0.1' });
    secured = await buildTestApp({ API_KEYS: 'key-one' });
    securedUrl = await secured.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await testApp?.app.close();
    await secured?.app.close();
    await tracing?.stop();
  });

  /** Waits for the server span of a response's trace, then returns what the server made. */
  async function spansOf(response: Response): Promise<ReadableSpan[]> {
    const traceId = response.headers.get('x-trace-id') ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await tracing.waitFor((all) =>
      serverSide(all, traceId).some((span) => span.kind === SpanKind.SERVER),
    );
    return serverSide(spans, traceId);
  }

  it('is named {method} {http.route} and carries the route, status, client_job_id and request id', async () => {
    const response = await fetch(`${url}/v1/ok?client_job_id=job-7`, {
      headers: { 'x-request-id': 'req-7' },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const spans = await spansOf(response);
    expect(spans).toHaveLength(1);
    const [server] = spans as [ReadableSpan];
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.name).toBe('GET /v1/ok');
    expect(server.attributes).toMatchObject({
      'http.route': '/v1/ok',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      client_job_id: 'job-7',
      request_id: 'req-7',
    });
    expect(server.attributes.error_code).toBeUndefined();
  });

  it("has the service's own spans as children", async () => {
    const response = await fetch(`${url}/v1/items/42`);
    expect(await response.json()).toEqual({ id: '42' });
    const spans = await spansOf(response);
    const server = spans.find((span) => span.kind === SpanKind.SERVER);
    expect(server?.name).toBe('GET /v1/items/:id');
    const own = spans.filter((span) => span !== server);
    expect(own.map((span) => span.name)).toEqual(['items.lookup']);
    expect(own[0]?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it.each([
    ['/v1/teapot', 418, 'GET /v1/teapot', 'teapot'],
    ['/v1/crash', 500, 'GET /v1/crash', 'internal_error'],
    ['/v1/nowhere', 404, 'GET', 'not_found'],
  ])('of %s carries the catalogue code of the error answered', async (path, status, name, code) => {
    const response = await fetch(`${url}${path}`);
    expect(response.status).toBe(status);
    await response.arrayBuffer();
    const spans = await spansOf(response);
    expect(spans).toHaveLength(1);
    expect(spans[0]?.name).toBe(name);
    expect(spans[0]?.attributes).toMatchObject({
      'http.response.status_code': status,
      error_code: code,
    });
    // The HTTP semantic conventions: only a 5xx is a server span's error; no route, no http.route.
    expect(spans[0]?.status.code).toBe(status >= 500 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
    if (name === 'GET') expect(spans[0]?.attributes['http.route']).toBeUndefined();
  });

  it('of a request refused by the API key check still has its route and request id', async () => {
    const response = await fetch(`${securedUrl}/v1/ok`, { headers: { 'x-request-id': 'req-401' } });
    expect(response.status).toBe(401);
    await response.arrayBuffer();
    const spans = await spansOf(response);
    expect(spans).toHaveLength(1);
    expect(spans[0]?.name).toBe('GET /v1/ok');
    expect(spans[0]?.attributes).toMatchObject({
      request_id: 'req-401',
      error_code: 'invalid_api_key',
    });
  });

  it('of a stream ends after its last chunk, not when the handler returns', async () => {
    stream = gatedStream();
    const response = await fetch(`${url}/v1/stream`);
    const traceId = response.headers.get('x-trace-id') ?? '';
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const received = { text: '' };
    // Any span of the request, not only the server span: fastify's ended with the handler.
    const anyEnded = () => serverSide(tracing.ended(), traceId).length > 0;

    // The handler returned long ago (fastify's request span ended here), the stream goes on.
    await readUntil(reader, received, 'first\n');
    expect(anyEnded()).toBe(false);
    stream.gates.last.resolve();
    await readUntil(reader, received, 'last\n');
    const lastChunkAt = Date.now();
    expect(anyEnded()).toBe(false);
    // Span times are in whole-millisecond steps of Date.now(): let the clock pass the last
    // chunk's millisecond before the stream ends, so "ends after" is an ordering of times.
    for (let spins = 0; Date.now() <= lastChunkAt + 1 && spins < 100_000; spins++) {
      await setImmediate();
    }
    stream.gates.end.resolve();
    await readUntil(reader, received, '\0never');
    expect(received.text).toBe('first\nlast\n');

    const spans = await spansOf(response);
    expect(spans).toHaveLength(1);
    const [server] = spans as [ReadableSpan];
    expect(server.name).toBe('GET /v1/stream');
    expect(hrTimeToMilliseconds(server.endTime)).toBeGreaterThan(lastChunkAt);
  });

  it('leaves health checks and scrapes untraced', async () => {
    const before = tracing.ended().length;
    for (const path of ['/health', '/live', '/metrics']) {
      // /health answers 503 here (the app was never marked ready): traced or not is the point.
      const response = await fetch(`${url}${path}`);
      expect(response.headers.get('x-trace-id')).toBeNull();
      await response.arrayBuffer();
    }
    // A traced request after them: once its span has ended, theirs would have too.
    await spansOf(await fetch(`${url}/v1/ok`));
    const servers = tracing
      .ended()
      .slice(before)
      .filter((span) => span.kind === SpanKind.SERVER);
    expect(servers.map((span) => span.name)).toEqual(['GET /v1/ok']);
  });
});
