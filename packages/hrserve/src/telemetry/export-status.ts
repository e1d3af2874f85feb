import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { OtlpProtocol } from '../config.js';

/** What `/health` shows of telemetry: where spans go and how the last export went. */
export interface TelemetryStatus {
  enabled: boolean;
  /** How spans are sent: grpc, http/protobuf or http/json. */
  protocol: OtlpProtocol | null;
  /** Where: the collector (gRPC) or the URL spans are posted to (HTTP). */
  endpoint: string | null;
  last_export: {
    ok: boolean;
    at: string;
    spans: number;
    error?: string;
  } | null;
}

/**
 * Wraps the real exporter to remember the outcome of the last export, so an
 * operator can see from `/health` that the collector is unreachable without
 * reading logs. It adds no work to the request path: exports run in the batch
 * processor's background flush.
 */
export class StatusRecordingExporter implements SpanExporter {
  private lastExport: TelemetryStatus['last_export'] = null;

  constructor(
    private readonly inner: SpanExporter,
    /** Told each export's outcome (the log of failures, export-log.ts). */
    private readonly onOutcome: (ok: boolean, spans: number, error?: string) => void = () => {},
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      this.lastExport = {
        ok: result.code === ExportResultCode.SUCCESS,
        at: new Date().toISOString(),
        spans: spans.length,
        ...(result.error ? { error: result.error.message } : {}),
      };
      this.onOutcome(this.lastExport.ok, spans.length, result.error?.message);
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  get last(): TelemetryStatus['last_export'] {
    return this.lastExport;
  }
}
