import { createServer } from 'node:net';
import { OtlpReceiver, type ReceivedSpan, type SpawnedService } from '@hrserve/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHello } from './__fixtures__/spawn-hello.js';

/** Span kinds as OTLP numbers them on the wire (0 unspecified, 1 internal). */
const SERVER = 2;
const CLIENT = 3;

/** Traces of a real service over real OTLP/gRPC, decoded by a real receiver. */
describe('telemetry over OTLP gRPC', () => {
  let receiver: OtlpReceiver;
  let upstream: SpawnedService;
  let front: SpawnedService;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    const otel = { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
    upstream = await spawnHello({
      ...otel,
      SERVICE_NAME: 'hello',
      OTEL_SERVICE_NAME: 'upstream-api',
    });
    front = await spawnHello({ ...otel, HELLO_UPSTREAM_URL: upstream.url });
  });

  afterAll(async () => {
    await Promise.all([front?.stop(), upstream?.stop()]);
    await receiver?.stop();
  });

  /** The spans hello-api made in a trace. */
  function helloSpans(traceId: string): ReceivedSpan[] {
    return receiver.spans.filter(
      (span) => span.traceId === traceId && span.resource['service.name'] === 'hello-api',
    );
  }

  it('exports one server span per request, with the service resource, the platform attributes and the caller trace as parent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const response = await fetch(`${front.url}/v1/hello?name=otel&client_job_id=job-42`, {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01`, 'x-request-id': 'req-42' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-trace-id')).toBe(traceId);

    await receiver.waitFor(() => helloSpans(traceId).some((span) => span.kind === SERVER));
    const spans = helloSpans(traceId);
    expect(spans).toHaveLength(1);
    const server = spans[0] as ReceivedSpan;
    expect(server.kind).toBe(SERVER);
    // {method} {http.route}, as the HTTP semantic conventions name server spans.
    expect(server.name).toBe('GET /v1/hello');
    expect(server.parentSpanId).toBe(callerSpanId);
    expect(server.attributes).toMatchObject({
      'http.route': '/v1/hello',
      'http.response.status_code': 200,
      client_job_id: 'job-42',
      request_id: 'req-42',
    });
    expect(server.resource['service.name']).toBe('hello-api');
    expect(server.resource['service.version']).toBe('0.1.0');
    expect(String(server.resource['service.instance.id'])).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exports one server span for a streamed response too, ending with the stream', async () => {
    // Each chunk 50 ms after the one before: the last goes out well after the client has the second.
    const response = await fetch(`${front.url}/v1/count?to=3&interval_ms=50`);
    const traceId = response.headers.get('x-trace-id') as string;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let secondChunkAt: number | undefined;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      text += decoder.decode(chunk.value);
      if (secondChunkAt === undefined && text.includes('2\n')) secondChunkAt = Date.now();
    }
    expect(text).toBe('1\n2\n3\n');

    await receiver.waitFor(() => helloSpans(traceId).some((span) => span.kind === SERVER));
    const spans = helloSpans(traceId);
    expect(spans.map((span) => [span.name, span.kind])).toEqual([['GET /v1/count', SERVER]]);
    // Ended after the stream went on past the handler (fastify's request span ended before it).
    expect(secondChunkAt).toBeDefined();
    expect(BigInt(spans[0]?.endTimeUnixNano ?? 0)).toBeGreaterThan(
      BigInt(secondChunkAt as number) * 1_000_000n,
    );
  });

  it('names the error answered on the server span', async () => {
    const response = await fetch(`${front.url}/v1/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repeat: 2 }),
    });
    expect(response.status).toBe(400);
    const traceId = response.headers.get('x-trace-id') as string;
    await receiver.waitFor(() => helloSpans(traceId).some((span) => span.kind === SERVER));
    expect(helloSpans(traceId)[0]?.attributes).toMatchObject({
      'http.route': '/v1/echo',
      'http.response.status_code': 400,
      error_code: 'invalid_request',
    });
  });

  it('joins two services calling each other with fetch into one trace', async () => {
    const response = await fetch(`${front.url}/v1/relay?name=chain`);
    expect(await response.json()).toEqual({ upstream: { message: 'Hello, chain!' } });
    const traceId = response.headers.get('x-trace-id') as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await receiver.waitFor((all) =>
      all.some(
        (span) =>
          span.traceId === traceId &&
          span.resource['service.name'] === 'upstream-api' &&
          span.kind === SERVER,
      ),
    );
    const inTrace = spans.filter((span) => span.traceId === traceId);
    const frontServer = inTrace.find(
      (span) => span.resource['service.name'] === 'hello-api' && span.kind === SERVER,
    );
    const relay = inTrace.find((span) => span.name === 'hello.relay');
    const outgoing = inTrace.find(
      (span) => span.resource['service.name'] === 'hello-api' && span.kind === CLIENT,
    );
    const upstreamServer = inTrace.find(
      (span) => span.resource['service.name'] === 'upstream-api' && span.kind === SERVER,
    );

    expect(frontServer?.parentSpanId).toBe('');
    expect(relay?.attributes['hello.upstream']).toBe(upstream.url);
    // front's server span → relay span → outgoing fetch (client span) → upstream's server span
    expect(relay?.parentSpanId).toBe(frontServer?.spanId);
    expect(outgoing?.parentSpanId).toBe(relay?.spanId);
    expect(upstreamServer?.parentSpanId).toBe(outgoing?.spanId);
  });

  it('does not trace health checks and scrapes', async () => {
    const before = receiver.spans.length;
    await (await fetch(`${front.url}/health`)).arrayBuffer();
    await (await fetch(`${front.url}/metrics`)).arrayBuffer();
    // Exported after the two above would have been: once it is in, theirs would be too.
    await (await fetch(`${front.url}/v1/hello`)).arrayBuffer();
    await receiver.waitFor((all) =>
      all.slice(before).some((span) => span.name === 'GET /v1/hello'),
    );
    const servers = receiver.spans
      .slice(before)
      .filter((span) => span.resource['service.name'] === 'hello-api');
    expect(servers.map((span) => span.name)).toEqual(['GET /v1/hello']);
  });

  it('reports the last export in /health', async () => {
    const health = (await (await fetch(`${front.url}/health`)).json()) as {
      telemetry: { enabled: boolean; endpoint: string; last_export: { ok: boolean } | null };
    };
    expect(health.telemetry.enabled).toBe(true);
    expect(health.telemetry.endpoint).toBe(receiver.endpoint);
    expect(health.telemetry.last_export?.ok).toBe(true);
  });
});

describe("fastify's hook spans (TELEMETRY_HOOK_SPANS=true)", () => {
  it('are added under the one server span, for debugging', async () => {
    const receiver = await OtlpReceiver.start();
    const service = await spawnHello({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      TELEMETRY_HOOK_SPANS: 'true',
    });
    try {
      const response = await fetch(`${service.url}/v1/hello`);
      expect(response.status).toBe(200);
      const traceId = response.headers.get('x-trace-id') as string;
      const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
      await receiver.waitFor(() =>
        inTrace().some((span) => span.kind === SERVER && span.name === 'GET /v1/hello'),
      );
      await receiver.waitFor(() => inTrace().some((span) => span.scope === '@fastify/otel'));
      const servers = inTrace().filter((span) => span.kind === SERVER);
      expect(servers).toHaveLength(1);
      // fastify's request span hangs off the server span; its hook and handler spans off it.
      const request = inTrace().find(
        (span) => span.scope === '@fastify/otel' && span.parentSpanId === servers[0]?.spanId,
      );
      expect(request).toBeDefined();
    } finally {
      await service.stop();
      await receiver.stop();
    }
  });
});

describe('a collector that is down, then back', () => {
  it('is in the log: the first failure at once, then the recovery', async () => {
    // A port nothing listens on yet: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const service = await spawnHello({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    });
    let receiver: OtlpReceiver | undefined;
    try {
      // Requests until an export has failed and been logged (bounded by waitForLog).
      const traffic = setInterval(() => void fetch(`${service.url}/v1/hello`).catch(() => {}), 200);
      try {
        const failed = await service.waitForLog(
          (line) =>
            String(line.msg).startsWith(`telemetry export to http://127.0.0.1:${port} failed`),
          30_000,
        );
        expect(failed.level).toBe(40);
        receiver = await OtlpReceiver.start(port);
        const back = await service.waitForLog(
          (line) => line.msg === `telemetry export to http://127.0.0.1:${port} works again`,
          60_000,
        );
        expect(back.level).toBe(30);
        expect(Number(back.failed_exports)).toBeGreaterThan(0);
      } finally {
        clearInterval(traffic);
      }
      // One line per failure would be dozens by now.
      const warnings = service.logs.filter((line) =>
        String(line.msg).startsWith('telemetry export to'),
      );
      expect(warnings.length).toBeLessThanOrEqual(3);
    } finally {
      await service.stop();
      await receiver?.stop();
    }
  }, 120_000);
});
