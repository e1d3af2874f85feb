import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpListener, type OtlpProtocol, PortInUseError } from './otlp-listener.js';
import type { ReceivedSpan } from './received-span.js';

const PROTOCOLS: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** OpenTelemetry JS' own exporter for `protocol`, as a service configures it. */
function traceExporter(listener: OtlpListener, protocol: OtlpProtocol, gzip: boolean) {
  const compression = gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  const url = `${listener.httpEndpoint}/v1/traces`;
  if (protocol === 'grpc')
    return new GrpcTraceExporter({ url: listener.grpcEndpoint, compression });
  if (protocol === 'http/protobuf') return new ProtobufTraceExporter({ url, compression });
  return new JsonTraceExporter({ url, compression });
}

function metricExporter(listener: OtlpListener, protocol: OtlpProtocol) {
  const url = `${listener.httpEndpoint}/v1/metrics`;
  if (protocol === 'grpc') return new GrpcMetricExporter({ url: listener.grpcEndpoint });
  if (protocol === 'http/protobuf') return new ProtobufMetricExporter({ url });
  return new JsonMetricExporter({ url });
}

/** The result code of every export the exporter made (0 is success). */
function recording(exporter: SpanExporter, results: number[]): SpanExporter {
  return {
    export: (spans, done) =>
      exporter.export(spans, (result) => {
        results.push(result.code);
        done(result);
      }),
    shutdown: () => exporter.shutdown(),
  };
}

/** A parent and a child span with every kind of attribute, exported one by one. */
async function exportTwoSpans(exporter: SpanExporter, service: string): Promise<number[]> {
  const results: number[] = [];
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: recording(exporter, results) })],
  });
  const tracer = provider.getTracer('receiver-test');
  const attributes: Attributes = {
    'http.route': '/v1/hello',
    'http.response.status_code': 200,
    ratio: 0.5,
    cached: true,
    'gen_ai.response.finish_reasons': ['stop'],
  };
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER });
  tracer
    .startSpan(
      'child',
      { kind: SpanKind.CLIENT, attributes },
      trace.setSpan(context.active(), parent),
    )
    .end();
  parent.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
  return results;
}

describe('OTLP receiver', () => {
  let listener: OtlpListener;
  const received: Array<{ spans: ReceivedSpan[]; protocol: OtlpProtocol }> = [];
  beforeAll(async () => {
    listener = await OtlpListener.start({
      onSpans: (spans, protocol) => received.push({ spans, protocol }),
    });
  });
  afterAll(() => listener.close());

  for (const protocol of PROTOCOLS) {
    for (const gzip of [false, true]) {
      it(`takes spans from OpenTelemetry JS over ${protocol}${gzip ? ', gzip' : ''}`, async () => {
        const service = `svc-${protocol}-${gzip}`;
        const results = await exportTwoSpans(traceExporter(listener, protocol, gzip), service);
        expect(results).toEqual([0, 0]);
        const batches = received.filter(
          (batch) => batch.spans[0]?.resource['service.name'] === service,
        );
        expect(batches.map((batch) => batch.protocol)).toEqual([protocol, protocol]);
        // The two exports are separate requests: they may arrive in either order.
        const spans = batches.flatMap((batch) => batch.spans);
        const child = spans.find((span) => span.name === 'child');
        const parent = spans.find((span) => span.name === 'parent');
        expect(parent).toMatchObject({
          name: 'parent',
          kind: 2, // OTLP's SPAN_KIND_SERVER (the API's SpanKind is one less)
          parentSpanId: '',
          status: { code: 2, message: 'it failed' },
          scope: 'receiver-test',
        });
        expect(child).toMatchObject({
          name: 'child',
          kind: 3,
          traceId: parent?.traceId,
          parentSpanId: parent?.spanId,
          attributes: {
            'http.route': '/v1/hello',
            'http.response.status_code': 200,
            ratio: 0.5,
            cached: true,
            'gen_ai.response.finish_reasons': '["stop"]',
          },
        });
        expect(parent?.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(parent?.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(BigInt(parent?.endTimeUnixNano ?? 0)).toBeGreaterThanOrEqual(
          BigInt(parent?.startTimeUnixNano ?? 1),
        );
        expect(parent?.durationMs).toBeGreaterThanOrEqual(0);
      });
    }

    it(`accepts metrics over ${protocol}, counting them`, async () => {
      const before = { ...listener.counts };
      const provider = new MeterProvider({
        readers: [
          new PeriodicExportingMetricReader({
            exporter: metricExporter(listener, protocol),
            exportIntervalMillis: 3_600_000,
          }),
        ],
      });
      provider.getMeter('receiver-test').createCounter('requests').add(1);
      // Rejects when the export fails.
      await provider.forceFlush();
      await provider.shutdown();
      expect(listener.counts.metricExports).toBeGreaterThan(before.metricExports);
      expect(listener.counts.metrics).toBeGreaterThan(before.metrics);
    });
  }

  describe('over HTTP, as the spec answers', () => {
    const post = (path: string, body: Buffer | string, headers: Record<string, string>) =>
      fetch(`${listener.httpEndpoint}${path}`, { method: 'POST', body, headers });
    const fixture = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
          scopeSpans: [
            { spans: [{ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), name: 'raw' }] },
          ],
        },
      ],
    });
    const rpcStatus = protobuf.Type.fromJSON('Status', {
      fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } },
    });

    it('answers JSON with an empty JSON response, gzip or not', async () => {
      for (const [body, headers] of [
        [fixture, {}],
        [gzipSync(fixture), { 'content-encoding': 'gzip' }],
      ] as const) {
        const response = await post('/v1/traces', body, {
          'content-type': 'application/json; charset=utf-8',
          ...headers,
        });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/json');
        expect(await response.json()).toEqual({});
      }
      expect(received.at(-1)?.spans[0]).toMatchObject({ name: 'raw', traceId: 'aa'.repeat(16) });
    });

    it('answers garbage with 400 and a google.rpc.Status in the request encoding', async () => {
      const protobufAnswer = await post('/v1/traces', Buffer.from([0x0a, 0xff, 0xff]), {
        'content-type': 'application/x-protobuf',
      });
      expect(protobufAnswer.status).toBe(400);
      expect(protobufAnswer.headers.get('content-type')).toBe('application/x-protobuf');
      const status = rpcStatus.toObject(
        rpcStatus.decode(new Uint8Array(await protobufAnswer.arrayBuffer())),
      );
      expect(status.code).toBe(3);
      expect(status.message).toMatch(/^not an OTLP protobuf/);

      const jsonAnswer = await post('/v1/traces', '{"resourceSpans":', {
        'content-type': 'application/json',
      });
      expect(jsonAnswer.status).toBe(400);
      expect(await jsonAnswer.json()).toMatchObject({
        code: 3,
        message: expect.stringMatching(/^not JSON/),
      });

      const notGzip = await post('/v1/traces', fixture, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(notGzip.status).toBe(400);
    });

    it('answers an unknown content type or encoding with 415, a wrong path 404, a GET 405', async () => {
      const unknownType = await post('/v1/traces', fixture, { 'content-type': 'text/plain' });
      expect(unknownType.status).toBe(415);
      expect(await unknownType.json()).toMatchObject({
        code: 12,
        message: expect.stringMatching(/application\/x-protobuf or application\/json/),
      });
      const unknownEncoding = await post('/v1/traces', fixture, {
        'content-type': 'application/json',
        'content-encoding': 'br',
      });
      expect(unknownEncoding.status).toBe(415);
      expect((await post('/v1/logs', fixture, { 'content-type': 'application/json' })).status).toBe(
        404,
      );
      const get = await fetch(`${listener.httpEndpoint}/v1/traces`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    });
  });
});

describe('a receiver on a port that is taken', () => {
  it('fails with PortInUseError naming the address and the transport', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await expect(OtlpListener.start({ grpcPort: port })).rejects.toThrow(
        new PortInUseError(`127.0.0.1:${port}`, 'OTLP/gRPC'),
      );
      const error = await OtlpListener.start({ httpPort: port }).catch((thrown) => thrown);
      expect(error).toBeInstanceOf(PortInUseError);
      expect(error.message).toBe(
        `127.0.0.1:${port} (OTLP/HTTP) is already in use, perhaps by a collector; see who holds it with \`ss -ltnp 'sport = :${port}'\`, or choose another port.`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('refuses bodies over its limit with 413', async () => {
    const small = await OtlpListener.start({ maxBodyBytes: 64 });
    try {
      const response = await fetch(`${small.httpEndpoint}/v1/traces`, {
        method: 'POST',
        body: 'x'.repeat(1000),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(413);
    } finally {
      await small.close();
    }
  });
});
