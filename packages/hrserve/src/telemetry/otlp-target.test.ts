import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, telemetryConfigSchema } from '../config.js';
import { type OtlpSignal, otlpTarget } from './otlp-target.js';

function targetOf(signal: OtlpSignal, env: Record<string, string>) {
  return otlpTarget(signal, loadConfig(telemetryConfigSchema, env));
}

describe('where a signal is exported (the OTel SDK environment variables)', () => {
  it.each<[string, OtlpSignal, Record<string, string>, string, string]>([
    ['nothing set: gRPC on 4317', 'traces', {}, 'grpc', 'http://localhost:4317'],
    [
      'http/protobuf, no endpoint: the spec default 4318 plus the signal path',
      'traces',
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
      'http/protobuf',
      'http://localhost:4318/v1/traces',
    ],
    [
      'http/json for metrics',
      'metrics',
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      'http/json',
      'http://localhost:4318/v1/metrics',
    ],
    [
      'the generic endpoint is a base URL over HTTP',
      'traces',
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      },
      'http/protobuf',
      'http://collector:4318/v1/traces',
    ],
    [
      'a base URL with a path and a trailing slash keeps its path',
      'metrics',
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example/otlp/',
      },
      'http/protobuf',
      'https://collector.example/otlp/v1/metrics',
    ],
    [
      'a signal endpoint is used as is',
      'traces',
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      },
      'http/protobuf',
      'http://traces:9999/custom',
    ],
    [
      'gRPC takes the generic endpoint as host:port, no path',
      'traces',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' },
      'grpc',
      'http://collector:4317',
    ],
    [
      'a signal protocol overrides the generic one',
      'traces',
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      },
      'http/json',
      'http://localhost:4318/v1/traces',
    ],
    [
      "and leaves the other signal's alone",
      'metrics',
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      },
      'grpc',
      'http://localhost:4317',
    ],
    [
      'the metrics endpoint is for metrics only',
      'metrics',
      {
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/v1/metrics',
      },
      'http/protobuf',
      'http://metrics:4318/v1/metrics',
    ],
  ])('%s', (_label, signal, env, protocol, url) => {
    expect(targetOf(signal, env)).toEqual({ protocol, url });
  });

  it('refuses an unknown protocol, listing the allowed ones', () => {
    let caught: unknown;
    try {
      loadConfig(telemetryConfigSchema, {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'udp',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(2);
    for (const problem of problems) {
      expect(problem).toMatch(/^OTEL_EXPORTER_OTLP_(METRICS_)?PROTOCOL="(http|udp)"/);
      expect(problem).toMatch(/"grpc".*"http\/protobuf".*"http\/json"/);
    }
  });

  it('refuses an endpoint that is no URL', () => {
    expect(() =>
      loadConfig(telemetryConfigSchema, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT="http:\/\/": expected a URL/);
  });
});
