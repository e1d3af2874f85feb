import { OtlpReceiver, type SpawnedService } from '@hrserve/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHello } from './__fixtures__/spawn-hello.js';

/** SpanKind.SERVER as OTLP numbers it on the wire. */
const SERVER = 2;

interface HealthTelemetry {
  telemetry: {
    protocol: string;
    endpoint: string;
    last_export: { ok: boolean; spans: number } | null;
  };
}

interface ProtocolCase {
  label: string;
  /** What /health should report. */
  protocol: string;
  /** The settings that send hello's spans to `receiver` that way. */
  env: (receiver: OtlpReceiver) => Record<string, string>;
  /** Where /health should say the spans go. */
  endpoint: (receiver: OtlpReceiver) => string;
}

const cases: ProtocolCase[] = [
  {
    label: 'grpc, the default',
    protocol: 'grpc',
    env: (receiver) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }),
    endpoint: (receiver) => receiver.endpoint,
  },
  {
    label: 'http/protobuf, /v1/traces appended to the base URL',
    protocol: 'http/protobuf',
    env: (receiver) => ({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint,
    }),
    endpoint: (receiver) => `${receiver.httpEndpoint}/v1/traces`,
  },
  {
    label: 'http/json, /v1/traces appended to the base URL',
    protocol: 'http/json',
    env: (receiver) => ({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpEndpoint,
    }),
    endpoint: (receiver) => `${receiver.httpEndpoint}/v1/traces`,
  },
  {
    label: 'http/json for traces only, to their own endpoint (the generic settings at gRPC)',
    protocol: 'http/json',
    env: (receiver) => ({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.httpEndpoint}/v1/traces`,
    }),
    endpoint: (receiver) => `${receiver.httpEndpoint}/v1/traces`,
  },
];

/** A real service exporting to a real receiver over each OTLP transport. */
describe.each(cases)('spans over $label', ({ protocol, env, endpoint }) => {
  let receiver: OtlpReceiver;
  let service: SpawnedService;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    service = await spawnHello({ OTEL_SDK_DISABLED: 'false', ...env(receiver) });
  });
  afterAll(async () => {
    await service?.stop();
    await receiver?.stop();
  });

  it('arrive decoded: the one server span with its attributes and resource', async () => {
    const response = await fetch(`${service.url}/v1/hello?client_job_id=job-proto`);
    expect(response.status).toBe(200);
    const traceId = response.headers.get('x-trace-id');
    const spans = await receiver.waitFor((all) => all.some((span) => span.traceId === traceId));
    const inTrace = spans.filter((span) => span.traceId === traceId);
    expect(inTrace).toHaveLength(1);
    expect(inTrace[0]).toMatchObject({
      name: 'GET /v1/hello',
      kind: SERVER,
      attributes: { 'http.route': '/v1/hello', client_job_id: 'job-proto' },
      resource: { 'service.name': 'hello-api' },
    });
  });

  it('and /health says how and where they go, and that the last export worked', async () => {
    const health = (await (await fetch(`${service.url}/health`)).json()) as HealthTelemetry;
    expect(health.telemetry).toMatchObject({
      protocol,
      endpoint: endpoint(receiver),
      last_export: { ok: true },
    });
  });
});

describe('a collector down over OTLP/HTTP', () => {
  it('is in the log like over gRPC, naming the URL spans are posted to', async () => {
    // A receiver stopped at once: its HTTP port refuses connections.
    const gone = await OtlpReceiver.start();
    const base = gone.httpEndpoint;
    await gone.stop();
    const service = await spawnHello({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: base,
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    });
    const traffic = setInterval(() => void fetch(`${service.url}/v1/hello`).catch(() => {}), 200);
    try {
      const failed = await service.waitForLog(
        (line) => String(line.msg).startsWith(`telemetry export to ${base}/v1/traces failed`),
        30_000,
      );
      expect(failed.level).toBe(40);
      const health = (await (await fetch(`${service.url}/health`)).json()) as HealthTelemetry;
      expect(health.telemetry.protocol).toBe('http/protobuf');
      expect(health.telemetry.last_export?.ok).toBe(false);
    } finally {
      clearInterval(traffic);
      await service.stop();
    }
  }, 60_000);
});
