import { randomUUID } from 'node:crypto';
import { type Meter, metrics, type Tracer, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { loadConfigOrExit, type TelemetryConfig, telemetryConfigSchema } from '../config.js';
import { ExportLog, type ExportLogEntry } from './export-log.js';
import { StatusRecordingExporter, type TelemetryStatus } from './export-status.js';
import { instrumentationsFor } from './instrumentations.js';
import { metricExporterFor, traceExporterFor } from './otlp-exporters.js';
import { otlpTarget } from './otlp-target.js';

/** `service.instance.id` (incubating semantic convention; not exported by the stable entry). */
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

export interface Telemetry {
  /** False when `OTEL_SDK_DISABLED=true`: tracer and meter are then no-ops. */
  readonly enabled: boolean;
  /** `service.name` on every span, e.g. `llmchat-api`. */
  readonly serviceName: string;
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** For `/health`: exporter endpoint and the outcome of the last export. */
  status(): TelemetryStatus;
  /** Flushes and stops telemetry; never takes longer than `TELEMETRY_SHUTDOWN_TIMEOUT_MS`. */
  shutdown(): Promise<void>;
  /**
   * Calls `listener` with what the log should say about span exports (the first
   * failure, summaries while failing, the recovery); returns the unsubscribe.
   */
  onExportLog(listener: (entry: ExportLogEntry) => void): () => void;
}

/*
 * OpenTelemetry's providers are process-wide (the API keeps them on globalThis),
 * and the preload (`node --import`) and the service's main are separate entry
 * points; this is how the app finds the telemetry the preload started.
 */
const ACTIVE_TELEMETRY = Symbol.for('hrserve.telemetry');
type TelemetryHolder = { [ACTIVE_TELEMETRY]?: Telemetry };

/** The telemetry `setupOtel` started in this process, or a disabled one. */
export function getActiveTelemetry(): Telemetry {
  return (globalThis as TelemetryHolder)[ACTIVE_TELEMETRY] ?? disabledTelemetry('unknown');
}

function disabledTelemetry(serviceName: string): Telemetry {
  return {
    enabled: false,
    serviceName,
    tracer: trace.getTracer(serviceName),
    meter: metrics.getMeter(serviceName),
    status: () => ({ enabled: false, protocol: null, endpoint: null, last_export: null }),
    shutdown: async () => {},
    onExportLog: () => () => {},
  };
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/**
 * Starts OpenTelemetry for a service. Call it from the service's preload module
 * (`node --import ./dist/telemetry.js dist/main.js`), before fastify or http are
 * loaded, so HTTP server spans exist. Spans go over OTLP to the collector, by
 * gRPC or HTTP as `OTEL_EXPORTER_OTLP_PROTOCOL` says (otlp-target.ts); W3C
 * `traceparent` is read from incoming requests and written into outgoing
 * fetch/undici calls.
 *
 * A collector that is down, absent or slow never blocks a request: spans are
 * batched and exported in the background, each export is bounded by
 * `OTEL_EXPORTER_OTLP_TIMEOUT`, and the queue drops rather than grows.
 */
export function setupOtel(
  serviceName: string,
  version: string,
  env: Record<string, string | undefined> = process.env,
): Telemetry {
  // Same rule as the service's own config: bad telemetry settings stop the start, listing each.
  const config: TelemetryConfig = loadConfigOrExit(telemetryConfigSchema, env);
  const resourceServiceName = config.OTEL_SERVICE_NAME ?? `${serviceName}-api`;
  if (config.OTEL_SDK_DISABLED) {
    const telemetry = disabledTelemetry(resourceServiceName);
    (globalThis as TelemetryHolder)[ACTIVE_TELEMETRY] = telemetry;
    return telemetry;
  }

  const traces = otlpTarget('traces', config);
  // The app logs these (buildApp subscribes): the preload runs before any logger exists.
  const exportLog = new ExportLog(traces.url);
  const exportLogListeners = new Set<(entry: ExportLogEntry) => void>();
  const exporter = new StatusRecordingExporter(
    traceExporterFor(traces, config.OTEL_EXPORTER_OTLP_TIMEOUT),
    (ok, spans, error) => {
      const entry = exportLog.record(ok, spans, error);
      if (entry) for (const listener of exportLogListeners) listener(entry);
    },
  );
  const metricReaders =
    config.OTEL_METRICS_EXPORTER === 'otlp'
      ? [
          new PeriodicExportingMetricReader({
            exporter: metricExporterFor(
              otlpTarget('metrics', config),
              config.OTEL_EXPORTER_OTLP_TIMEOUT,
            ),
            exportIntervalMillis: config.OTEL_METRIC_EXPORT_INTERVAL,
            exportTimeoutMillis: Math.min(
              config.OTEL_EXPORTER_OTLP_TIMEOUT,
              config.OTEL_METRIC_EXPORT_INTERVAL,
            ),
          }),
        ]
      : [];

  const sdk = new NodeSDK({
    // serviceName wins over OTEL_SERVICE_NAME from the env detector; we resolved it above.
    serviceName: resourceServiceName,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: resourceServiceName,
      [ATTR_SERVICE_VERSION]: version,
      [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(
          config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
          config.OTEL_BSP_MAX_QUEUE_SIZE,
        ),
        exportTimeoutMillis: config.OTEL_EXPORTER_OTLP_TIMEOUT,
        scheduledDelayMillis: 1000,
      }),
    ],
    metricReaders,
    // Without this NodeSDK adds an OTLP log exporter of its own, which nothing here feeds.
    logRecordProcessors: [],
    instrumentations: instrumentationsFor({ hookSpans: config.TELEMETRY_HOOK_SPANS }),
  });
  sdk.start();

  const telemetry: Telemetry = {
    enabled: true,
    serviceName: resourceServiceName,
    tracer: trace.getTracer(resourceServiceName, version),
    meter: metrics.getMeter(resourceServiceName, version),
    status: () => ({
      enabled: true,
      protocol: traces.protocol,
      endpoint: traces.url,
      last_export: exporter.last,
    }),
    shutdown: () => withTimeout(sdk.shutdown(), config.TELEMETRY_SHUTDOWN_TIMEOUT_MS),
    onExportLog: (listener) => {
      exportLogListeners.add(listener);
      return () => exportLogListeners.delete(listener);
    },
  };
  (globalThis as TelemetryHolder)[ACTIVE_TELEMETRY] = telemetry;
  return telemetry;
}
