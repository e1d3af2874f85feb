import { createServer } from 'node:net';
import { OtlpReceiver, type ReceivedSpan, type SpawnedService } from '@hrserve/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHello } from './__fixtures__/spawn-hello.js';

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

  it('exports the server span with the service resource, the client_job_id and the caller trace as parent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const response = await fetch(`${front.url}/v1/hello?name=otel&client_job_id=job-42`, {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-trace-id')).toBe(traceId);

    const spans = await receiver.waitFor((all) =>
      all.some((span) => span.traceId === traceId && span.kind === 2),
    );
    const server = spans.find(
      (span) => span.traceId === traceId && span.kind === 2,
    ) as ReceivedSpan;
    expect(server.name).toBe('GET /v1/hello');
    expect(server.parentSpanId).toBe(callerSpanId);
    expect(server.attributes.client_job_id).toBe('job-42');
    expect(
      server.attributes['http.response.status_code'] ?? server.attributes['http.status_code'],
    ).toBe(200);
    expect(server.resource['service.name']).toBe('hello-api');
    expect(server.resource['service.version']).toBe('0.1.0');
    expect(String(server.resource['service.instance.id'])).toMatch(/^[0-9a-f-]{36}$/);

    // fastify's own spans are children of the HTTP server span, in the same trace.
    const fastifySpans = await receiver.waitFor((all) =>
      all.some((span) => span.traceId === traceId && span.scope === '@fastify/otel'),
    );
    const request = fastifySpans.find(
      (span) =>
        span.traceId === traceId &&
        span.scope === '@fastify/otel' &&
        span.parentSpanId === server.spanId,
    );
    expect(request).toBeDefined();
    expect(request?.attributes.client_job_id).toBe('job-42');
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
          span.kind === 2,
      ),
    );
    const inTrace = spans.filter((span) => span.traceId === traceId);
    const frontServer = inTrace.find(
      (span) => span.resource['service.name'] === 'hello-api' && span.kind === 2,
    );
    const relay = inTrace.find((span) => span.name === 'hello.relay');
    const outgoing = inTrace.find(
      (span) => span.resource['service.name'] === 'hello-api' && span.kind === 3,
    );
    const upstreamServer = inTrace.find(
      (span) => span.resource['service.name'] === 'upstream-api' && span.kind === 2,
    );

    expect(frontServer?.parentSpanId).toBe('');
    expect(relay?.attributes['hello.upstream']).toBe(upstream.url);
    // relay span → outgoing fetch (client span) → upstream's server span
    expect(outgoing?.parentSpanId).toBe(relay?.spanId);
    expect(upstreamServer?.parentSpanId).toBe(outgoing?.spanId);
  });

  it('does not trace health checks', async () => {
    const before = receiver.spans.length;
    await fetch(`${front.url}/health`);
    await fetch(`${front.url}/v1/hello`);
    await receiver.waitFor((all) =>
      all.slice(before).some((span) => span.name === 'GET /v1/hello'),
    );
    expect(receiver.spans.slice(before).some((span) => span.name.includes('/health'))).toBe(false);
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
