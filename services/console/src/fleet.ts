import type { FastifyInstance } from 'hrserve';
import type { ChartPoint, MetricsSampler } from './metrics-sampler.js';
import { type ServiceDirectory, type ServiceEntry, whyUnreachable } from './services.js';

/** One service as the fleet page shows it; every part is what the service itself answers. */
export interface FleetService {
  name: string;
  url: string;
  /** Its /health body (200 or 503), or null when it did not answer (see `error`). */
  health: Record<string, unknown> | null;
  error?: string;
  /** `GET /v1/models`' data, when the service has it. */
  models?: unknown[];
  /** `GET /api/ps`' models (loaded models with their RAM estimate and expiry), when it has it. */
  loaded?: unknown[];
  /** The newest batches (`GET /v1/batches`), when it runs them. */
  batches?: unknown[];
  /** Whether it keeps conversations (`GET /v1/conversations` answers a list): a chat service. */
  chat: boolean;
  chart: ChartPoint[];
}

export interface FleetOptions {
  services: ServiceDirectory;
  sampler: MetricsSampler;
  /** Sent to the services (their API key). */
  headers: Record<string, string>;
  traceUrl: string | undefined;
}

/** Answered by a service that refuses the console's key. */
const REFUSED = Symbol('refused');

/**
 * A JSON GET that answers its body; undefined for anything else (404: not this service's
 * API), REFUSED for a 401/403.
 */
async function getJson(url: string, headers: Record<string, string>): Promise<unknown> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(3_000) });
    if (response.status === 401 || response.status === 403) return REFUSED;
    if (!response.ok) return undefined;
    return await response.json();
  } catch {
    return undefined;
  }
}

function listData(body: unknown): unknown[] | undefined {
  const data = (body as { data?: unknown } | undefined)?.data;
  return Array.isArray(data) ? data : undefined;
}

async function describe(entry: ServiceEntry, options: FleetOptions): Promise<FleetService> {
  const { headers } = options;
  let health: Record<string, unknown> | null = null;
  let error: string | undefined;
  try {
    const response = await fetch(`${entry.url}/health`, { signal: AbortSignal.timeout(3_000) });
    health = (await response.json()) as Record<string, unknown>;
  } catch (cause) {
    const why = whyUnreachable(cause);
    error = why === 'nothing listens' ? 'down (nothing listens)' : 'no answer';
  }
  const service: FleetService = {
    name: entry.name,
    url: entry.url,
    health,
    chat: false,
    chart: options.sampler.points(entry.name),
  };
  if (error) return { ...service, error };
  const [models, ps, batches, conversations] = await Promise.all([
    getJson(`${entry.url}/v1/models`, headers),
    getJson(`${entry.url}/api/ps`, headers),
    getJson(`${entry.url}/v1/batches?limit=20`, headers),
    getJson(`${entry.url}/v1/conversations?limit=1`, headers),
  ]);
  if ([models, ps, batches, conversations].includes(REFUSED)) {
    return {
      ...service,
      error: `refuses the console's API key: set CONSOLE_SERVICE_API_KEY (or the console's first API_KEYS) to one of ${entry.name}'s API_KEYS`,
    };
  }
  const loaded = (ps as { models?: unknown } | undefined)?.models;
  return {
    ...service,
    ...(listData(models) ? { models: listData(models) } : {}),
    ...(Array.isArray(loaded) ? { loaded } : {}),
    ...(listData(batches) ? { batches: listData(batches) } : {}),
    chat: (conversations as { object?: unknown } | undefined)?.object === 'list',
  };
}

/** `GET /console/fleet`: every service at a glance, asked in parallel. */
export function registerFleet(app: FastifyInstance, options: FleetOptions): void {
  app.get('/console/fleet', async () => ({
    services: await Promise.all(options.services.all.map((entry) => describe(entry, options))),
    trace_url: options.traceUrl ?? null,
  }));
}
