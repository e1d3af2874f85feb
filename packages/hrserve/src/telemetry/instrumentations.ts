import FastifyOtel from '@fastify/otel';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { CLIENT_JOB_ID_ATTRIBUTE, validClientJobId } from '../client-job-id.js';

/** Paths probed every few seconds by supervisors and scrapers: tracing them is noise. */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set([
  '/live',
  '/health',
  '/healthz',
  '/metrics',
]);

export interface InstrumentationOptions {
  /** Adds @fastify/otel's span per hook and handler (TELEMETRY_HOOK_SPANS); defaults to false. */
  hookSpans?: boolean;
}

/**
 * What is traced: one SERVER span per request, from node's http server. It
 * ends when the response has been sent (`close`), i.e. after the last byte of
 * a stream, which fastify's own request span does not wait for. fastify adds
 * the route and the request id to it (plugins/request-span.ts); the services'
 * spans are its children. Outgoing fetch/undici calls get CLIENT spans and a
 * `traceparent`.
 */
export function instrumentationsFor(options: InstrumentationOptions = {}): Instrumentation[] {
  const instrumentations: Instrumentation[] = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) =>
        UNTRACED_PATHS.has((request.url ?? '').split('?', 1)[0] ?? ''),
      // On the server span from its start, so even a request that fails early carries it.
      startIncomingSpanHook: (request) => {
        const jobId = validClientJobId(request.url ?? '', request.headers);
        return jobId === undefined ? {} : { [CLIENT_JOB_ID_ATTRIBUTE]: jobId };
      },
    }),
    new UndiciInstrumentation(),
  ];
  if (options.hookSpans) {
    instrumentations.push(
      new FastifyOtel.FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route) => UNTRACED_PATHS.has(route.url),
      }),
    );
  }
  return instrumentations;
}
