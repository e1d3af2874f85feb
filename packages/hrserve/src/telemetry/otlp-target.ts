import type { OtlpProtocol, TelemetryConfig } from '../config.js';

/** What telemetry exports over OTLP. */
export type OtlpSignal = 'traces' | 'metrics';

/** Where one signal goes, and how. */
export interface OtlpTarget {
  protocol: OtlpProtocol;
  /** gRPC: the collector's `http(s)://host:port`; HTTP: the whole URL posted to. */
  url: string;
}

/** The spec's defaults: 4317 for gRPC, 4318 for OTLP/HTTP. */
const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318';

type OtlpTargetConfig = Pick<
  TelemetryConfig,
  | 'OTEL_EXPORTER_OTLP_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'
>;

/**
 * Resolves a signal's protocol and URL as the OpenTelemetry SDK environment
 * variables specify (https://opentelemetry.io/docs/specs/otel/protocol/exporter/):
 * the signal's own setting wins over the generic one; a signal's own endpoint
 * is used as is, while the generic OTEL_EXPORTER_OTLP_ENDPOINT is, over HTTP,
 * a base URL the exporter appends `v1/traces` or `v1/metrics` to. gRPC takes
 * `host:port` and needs no path. Without an endpoint, each protocol's default
 * port. (The spec's default protocol is http/protobuf; ours stays grpc, as the
 * platform always exported.)
 */
export function otlpTarget(signal: OtlpSignal, config: OtlpTargetConfig): OtlpTarget {
  const ownProtocol =
    signal === 'traces'
      ? config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      : config.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL;
  const ownEndpoint =
    signal === 'traces'
      ? config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
      : config.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  const protocol = ownProtocol ?? config.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (ownEndpoint !== undefined) return { protocol, url: ownEndpoint };
  if (protocol === 'grpc') {
    return { protocol, url: config.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_GRPC_ENDPOINT };
  }
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_HTTP_ENDPOINT;
  return { protocol, url: `${base.endsWith('/') ? base : `${base}/`}v1/${signal}` };
}
