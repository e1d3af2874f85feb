import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The service's Prometheus registry, served at `/metrics`. Services add
     * their own instruments to it: `new Counter({ …, registers: [app.metrics] })`.
     */
    metrics: Registry;
  }
}

export interface MetricsOptions {
  service: string;
  version: string;
}

/** Seconds; spans health checks (ms) to the longest generations (600 s by default, then more). */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200,
];

/*
 * prom-client rather than an OTEL meter with a Prometheus exporter: /metrics
 * must keep working when OTEL is disabled or the collector is down, it gives
 * the standard process_* / nodejs_* metrics under their usual names, and each
 * app owns its registry (no process-global state, so tests build many apps).
 */
const metricsPlugin: FastifyPluginAsync<MetricsOptions> = async (app, options) => {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request start to the end of the response (streams included), by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  // An info metric: a gauge at 1, as Prometheus' conventions have them (a counter would be summed by rate()).
  new Gauge({
    name: 'hrserve_build_info',
    help: 'Always 1; labels carry the service version.',
    labelNames: ['version'] as const,
    registers: [registry],
  }).set({ version: options.version }, 1);

  app.decorate('metrics', registry);

  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw URL: ids in paths would explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { otel: false } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
};

export default fp(metricsPlugin, { name: 'hrserve-metrics', fastify: '5.x' });
