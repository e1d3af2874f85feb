import { createRequire } from 'node:module';
import { SpanKind } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import { type InstrumentationOptions, instrumentationsFor } from '../telemetry/instrumentations.js';

export interface InMemoryTracing {
  /** Every span ended so far, in the order they ended. */
  ended(): ReadableSpan[];
  /** The SERVER spans ended so far. */
  serverSpans(): ReadableSpan[];
  /** Resolves with the ended spans once `predicate` holds (checked every 10 ms, up to `timeoutMs`). */
  waitFor(
    predicate: (spans: ReadableSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReadableSpan[]>;
  stop(): Promise<void>;
}

/**
 * The production instrumentations with spans kept in memory, each as soon as
 * it ends (simple processor), so a test can see whether a span has ended yet.
 * One per test file: OpenTelemetry's providers are process-wide.
 */
export function startInMemoryTracing(options: InstrumentationOptions = {}): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    // Nothing else from the environment (NodeSDK would add OTLP metric and log exporters).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: instrumentationsFor(options),
  });
  sdk.start();
  // The test file loaded http (through fastify) before the instrumentation hooked `require`;
  // requiring it now lets the instrumentation patch node's http server, as the preload does.
  createRequire(import.meta.url)('node:http');

  const ended = () => exporter.getFinishedSpans();
  return {
    ended,
    serverSpans: () => ended().filter((span) => span.kind === SpanKind.SERVER),
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(ended())) {
        if (Date.now() > deadline)
          throw new Error(
            `spans not ended in ${timeoutMs} ms; got: ${ended()
              .map((span) => span.name)
              .join(', ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return ended();
    },
    stop: () => sdk.shutdown(),
  };
}
