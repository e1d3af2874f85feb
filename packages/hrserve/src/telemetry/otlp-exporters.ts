import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { OtlpTarget } from './otlp-target.js';

/*
 * One exporter package per transport (the "-http" packages speak OTLP/HTTP
 * with JSON bodies, "-proto" with protobuf). The URL is always passed, so the
 * exporters' own reading of OTEL_EXPORTER_OTLP_*ENDPOINT never applies: where
 * spans go is what otlp-target.ts resolved, which /health and the log show.
 */

/** The span exporter for `target`; each export is abandoned after `timeoutMillis`. */
export function traceExporterFor(target: OtlpTarget, timeoutMillis: number): SpanExporter {
  const options = { url: target.url, timeoutMillis };
  switch (target.protocol) {
    case 'grpc':
      return new GrpcTraceExporter(options);
    case 'http/protobuf':
      return new ProtobufTraceExporter(options);
    case 'http/json':
      return new JsonTraceExporter(options);
    default:
      return target.protocol satisfies never;
  }
}

/** The metric exporter for `target`; each export is abandoned after `timeoutMillis`. */
export function metricExporterFor(target: OtlpTarget, timeoutMillis: number): PushMetricExporter {
  const options = { url: target.url, timeoutMillis };
  switch (target.protocol) {
    case 'grpc':
      return new GrpcMetricExporter(options);
    case 'http/protobuf':
      return new ProtobufMetricExporter(options);
    case 'http/json':
      return new JsonMetricExporter(options);
    default:
      return target.protocol satisfies never;
  }
}
