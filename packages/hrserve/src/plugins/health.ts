import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { TelemetryStatus } from '../telemetry/export-status.js';

/** Readiness of a service: only `ok` serves traffic (200); every other state answers 503. */
export type HealthStatus = 'starting' | 'loading' | 'ok' | 'draining' | 'error';

/** Readiness state plus the details a service adds (llmchat adds its model). */
export class Health {
  private current: HealthStatus = 'starting';
  private currentReason: string | undefined;
  private readonly details = new Map<string, () => unknown>();
  private readonly listeners = new Set<(status: HealthStatus, reason?: string) => void>();

  get status(): HealthStatus {
    return this.current;
  }

  get reason(): string | undefined {
    return this.currentReason;
  }

  /** `reason` says why a service is not ok (shown in `/health` as `reason`). */
  set(status: HealthStatus, reason?: string): void {
    // Draining is final: nothing brings a stopping service back to ok.
    if (this.current === 'draining' && status !== 'draining') return;
    if (this.current === status && this.currentReason === reason) return;
    this.current = status;
    this.currentReason = reason;
    for (const listener of this.listeners) listener(status, reason);
  }

  /** Calls `listener` on each change of status or reason (systemd's STATUS=); returns the unsubscribe. */
  onChange(listener: (status: HealthStatus, reason?: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a field to the `/health` body, computed on each call. */
  addDetail(name: string, provide: () => unknown): void {
    this.details.set(name, provide);
  }

  snapshot(): Record<string, unknown> {
    const body: Record<string, unknown> = { status: this.current };
    if (this.currentReason !== undefined) body.reason = this.currentReason;
    for (const [name, provide] of this.details) body[name] = provide();
    return body;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    health: Health;
  }
}

export interface HealthOptions {
  service: string;
  version: string;
  telemetryStatus: () => TelemetryStatus;
}

const healthBodySchema = {
  type: 'object',
  required: ['status', 'service', 'version', 'uptime_s'],
  properties: {
    status: { type: 'string', enum: ['starting', 'loading', 'ok', 'draining', 'error'] },
    service: { type: 'string' },
    version: { type: 'string' },
    uptime_s: { type: 'number' },
  },
  additionalProperties: true,
} as const;

/**
 * `/health` (alias `/healthz`): readiness as JSON, 200 only when `ok`.
 * `/live`: 200 while the process runs, whatever the readiness.
 */
const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  const health = new Health();
  const startedAt = performance.now();
  app.decorate('health', health);

  const readiness = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const { status, ...rest } = health.snapshot();
    reply.code(status === 'ok' ? 200 : 503);
    return {
      status,
      service: options.service,
      version: options.version,
      uptime_s: Math.round((performance.now() - startedAt) / 100) / 10,
      rss_bytes: process.memoryUsage.rss(),
      ...rest,
      telemetry: options.telemetryStatus(),
    };
  };
  const routeOptions = {
    schema: { response: { 200: healthBodySchema, 503: healthBodySchema } },
    config: { otel: false },
  };
  app.get('/health', routeOptions, readiness);
  app.get('/healthz', routeOptions, readiness);
  app.get('/live', { config: { otel: false } }, async () => ({ status: 'ok' }));
};

export default fp(healthPlugin, { name: 'hrserve-health', fastify: '5.x' });
