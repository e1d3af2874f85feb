import { OtlpListener, type OtlpProtocol } from '@hrserve/otlp-receiver';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadConfig,
  OTLP_PROTOCOLS,
  type TelemetryConfig,
  telemetryConfigSchema,
} from '../config.js';
import { metricExporterFor, traceExporterFor } from './otlp-exporters.js';
import { otlpTarget } from './otlp-target.js';

/** Each protocol's exporter against a real receiver, which tells the transport each export came by. */
describe.each(OTLP_PROTOCOLS)('the %s exporters', (protocol) => {
  let listener: OtlpListener;
  const received: Array<{ name: string; protocol: OtlpProtocol }> = [];
  let config: TelemetryConfig;

  beforeAll(async () => {
    listener = await OtlpListener.start({
      onSpans: (spans, via) => {
        for (const span of spans) received.push({ name: span.name, protocol: via });
      },
    });
    config = loadConfig(telemetryConfigSchema, {
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      // The generic endpoint, as an operator sets it: gRPC's address, or HTTP's base URL.
      OTEL_EXPORTER_OTLP_ENDPOINT:
        protocol === 'grpc' ? listener.grpcEndpoint : listener.httpEndpoint,
    });
  });
  afterAll(() => listener?.close());

  it('send spans by that transport', async () => {
    const exporter = traceExporterFor(otlpTarget('traces', config), 5_000);
    const provider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    provider.getTracer('test').startSpan(`span over ${protocol}`).end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(received).toEqual([{ name: `span over ${protocol}`, protocol }]);
  });

  it('send metrics there too', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporterFor(otlpTarget('metrics', config), 5_000),
      // Exports on forceFlush below; the interval never comes within the test.
      exportIntervalMillis: 600_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('test').createCounter('requests').add(1);
    await reader.forceFlush();
    await provider.shutdown();
    expect(listener.counts.metricExports).toBeGreaterThan(0);
    expect(listener.counts.metrics).toBeGreaterThan(0);
  });
});
