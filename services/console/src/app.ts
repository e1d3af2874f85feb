import { fileURLToPath } from 'node:url';
import { fastifyCookie } from '@fastify/cookie';
import { buildApp, type FastifyInstance } from 'hrserve';
import packageJson from '../package.json' with { type: 'json' };
import type { ConsoleConfig } from './config.js';
import { registerFleet } from './fleet.js';
import { MetricsSampler } from './metrics-sampler.js';
import { proxyRoutes } from './proxy.js';
import { registerRequestGuard } from './request-guard.js';
import { ServiceDirectory } from './services.js';
import { registerSessionRoutes } from './session-routes.js';
import { SESSION_COOKIE, Sessions } from './sessions.js';
import { isWebAppPath, registerWebApp } from './web-app.js';

/** The built browser app, beside the built server (dist/web). */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('./web/', import.meta.url));

/** Open without a login: the login itself, and whether one is needed. */
const SESSION_PATHS = new Set(['/console/session', '/console/login', '/console/logout']);

export interface ConsoleAppOptions {
  /** The services to show and reach (default: the port table's). */
  services?: ServiceDirectory;
  /** The built web app (default dist/web beside the built server). */
  webRoot?: string;
}

export interface ConsoleApp {
  app: FastifyInstance;
  sampler: MetricsSampler;
}

/** The console: the web app, logins, the fleet view, and the proxy to the services. */
export async function buildConsoleApp(
  config: ConsoleConfig,
  options: ConsoleAppOptions = {},
): Promise<ConsoleApp> {
  const sessions = new Sessions(config.API_KEYS, config.CONSOLE_SESSION_TTL);
  const app = await buildApp({
    config,
    version: packageJson.version,
    auth: {
      isOpen: (path) => isWebAppPath(path) || SESSION_PATHS.has(path),
      // A browser that logged in presents its session cookie instead of a key.
      // (Read here: the auth hook runs before @fastify/cookie's has parsed request.cookies.)
      accepts: (request) =>
        sessions.touch(fastifyCookie.parse(request.headers.cookie ?? '')[SESSION_COOKIE]),
    },
  });
  registerRequestGuard(app, { bind: config.HOST, hosts: config.CONSOLE_HOSTS });
  await app.register(fastifyCookie);

  const services =
    options.services ??
    ServiceDirectory.fromPortTable(config.SERVICE_NAME, config.CONSOLE_SERVICES);
  const serviceApiKey = config.CONSOLE_SERVICE_API_KEY ?? config.API_KEYS[0];
  const headers: Record<string, string> = serviceApiKey
    ? { authorization: `Bearer ${serviceApiKey}` }
    : {};
  const sampler = new MetricsSampler(services, {
    intervalMs: Math.max(500, config.CONSOLE_SAMPLE_INTERVAL),
    headers,
    log: app.log,
  });
  app.addHook('onClose', async () => sampler.stop());

  registerSessionRoutes(app, sessions);
  registerFleet(app, { services, sampler, headers, traceUrl: config.CONSOLE_TRACE_URL });
  await app.register(proxyRoutes, { services, serviceApiKey });
  await registerWebApp(app, options.webRoot ?? config.CONSOLE_WEB_ROOT ?? DEFAULT_WEB_ROOT);
  app.health.addDetail('services', () => services.names);
  app.health.addDetail('sessions', () => sessions.size);
  return { app, sampler };
}
