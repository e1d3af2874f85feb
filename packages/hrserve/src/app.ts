import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { handleClientError } from './client-errors.js';
import type { BaseConfig } from './config.js';
import { logDestination } from './log-destination.js';
import authPlugin, { type AuthOptions } from './plugins/auth.js';
import clientJobIdPlugin from './plugins/client-job-id.js';
import errorsPlugin, {
  type DomainErrorMapper,
  type ErrorBodyRenderer,
  sendApiError,
  toApiError,
} from './plugins/errors.js';
import healthPlugin from './plugins/health.js';
import lifecyclePlugin from './plugins/lifecycle.js';
import metricsPlugin from './plugins/metrics.js';
import requestContextPlugin, {
  requestIdFor,
  requestLoggerFactory,
} from './plugins/request-context.js';
import requestSpanPlugin from './plugins/request-span.js';
import { utf8BodyText } from './plugins/utf8-body.js';
import workPriorityPlugin from './plugins/work-priority.js';
import { getActiveTelemetry, type Telemetry } from './telemetry/setup.js';

/** Answered without an API key and while draining: supervisors and scrapers must always reach them. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/healthz', '/live']);
/** Polled by supervisors and scrapers: not logged per request. */
const QUIET_PATHS: ReadonlySet<string> = new Set([...OPEN_PATHS, '/metrics']);
/** Still answered while draining, but behind the API key when one is set. */
const DRAIN_OPEN_PATHS = QUIET_PATHS;

export interface BuildAppOptions {
  config: BaseConfig;
  /** The service's version, reported in health, metrics and spans. */
  version: string;
  /** Defaults to what `setupOtel` started in this process (disabled when it did not run). */
  telemetry?: Telemetry;
  /** Where log lines go (default stdout); tests pass a stream to read them. */
  logStream?: { write(line: string): void };
  /** Renders error bodies for some routes in another API's shape (default: OpenAI's everywhere). */
  errorBody?: ErrorBodyRenderer;
  /** The service's domain errors as catalogued API errors, in one place. */
  mapError?: DomainErrorMapper;
  /** With API_KEYS set: the service's open paths and another credential it accepts. */
  auth?: Pick<AuthOptions, 'isOpen' | 'accepts'>;
}

/** The stream a test passes, else the one LOG_FORMAT and stdout call for (log-destination.ts). */
function logStreamOf(options: BuildAppOptions): { stream: { write(line: string): void } } {
  return { stream: options.logStream ?? logDestination(options.config.LOG_FORMAT) };
}

/**
 * Builds a service's fastify instance with every shared concern registered,
 * never listening (tests use `inject()`; `serve()` listens). The service then
 * registers its own routes on the returned instance.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, version } = options;
  const telemetry = options.telemetry ?? getActiveTelemetry();
  const service = config.SERVICE_NAME;

  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      base: { service, version, pid: process.pid },
      ...logStreamOf(options),
    },
    genReqId: requestIdFor,
    logController: new LogController({
      requestIdLogLabel: 'request_id',
      // Supervisors poll these every few seconds; a line per poll would drown the log.
      disableRequestLogging: (request) => QUIET_PATHS.has(request.url.split('?', 1)[0] ?? ''),
    }),
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // The whole request (headers and body) must arrive within REQUEST_TIMEOUT_MS, else 408:
    // a client trickling its body a byte a second (slowloris) is cut. Node checks these
    // deadlines every connectionsCheckingInterval (30 s by default, which let a slow client
    // hold on that much longer), so the check runs at least every second.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: {
      maxHeaderSize: config.MAX_HEADER_BYTES,
      headersTimeout: config.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, config.REQUEST_TIMEOUT_MS / 4)),
    },
    clientErrorHandler: handleClientError,
    frameworkErrors: (error, _request, reply) =>
      sendApiError(reply, toApiError(error, { bodyLimitBytes: config.BODY_LIMIT_BYTES })),
    // close() waits for in-flight requests; keep-alive sockets with nothing in flight are closed.
    forceCloseConnections: 'idle',
    // We answer 503 ourselves while draining (lifecycle plugin), in our error shape.
    return503OnClosing: false,
  });
  app.server.maxConnections = config.MAX_CONNECTIONS;
  // Node's own deadlines left connections that send nothing open (measured: 16 of 16 still
  // open at 4× REQUEST_TIMEOUT_MS), each holding one of MAX_CONNECTIONS for good. Such a
  // connection gets REQUEST_TIMEOUT_MS to start (bytesRead counts at the handle, where
  // http's parser reads without emitting 'data').
  app.server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, config.REQUEST_TIMEOUT_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  // Every route takes JSON: a text/plain body (curl -H 'content-type: text/plain', fetch with a
  // string) is refused as a wrong content type (415, "send application/json"), not parsed
  // into a string that a schema then calls "expected object". A route plugin that wants text
  // adds its own parser (llmchat's Ollama routes read any body as JSON, as Ollama does).
  app.removeContentTypeParser('text/plain');
  // Fastify's own JSON parser decodes leniently (a stray byte becomes U+FFFD); ours refuses
  // a body that is not UTF-8, then parses as Fastify does (prototype poisoning refused).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8BodyText(body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, done);
  });

  // First, so the server span has its route and request id even when a later hook refuses the request.
  await app.register(requestSpanPlugin);
  await app.register(errorsPlugin, {
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    ...(options.errorBody ? { errorBody: options.errorBody } : {}),
    ...(options.mapError ? { mapError: options.mapError } : {}),
  });
  await app.register(requestContextPlugin);
  await app.register(metricsPlugin, { service, version });
  await app.register(healthPlugin, { service, version, telemetryStatus: () => telemetry.status() });
  // A collector that is down shows in the log too, a few lines rather than one per batch.
  const stopExportLog = telemetry.onExportLog((entry) =>
    app.log[entry.level](entry.fields, entry.message),
  );
  app.addHook('onClose', async () => stopExportLog());
  await app.register(lifecyclePlugin, { openPaths: DRAIN_OPEN_PATHS, retryAfterSeconds: 5 });
  await app.register(clientJobIdPlugin);
  await app.register(workPriorityPlugin);
  await app.register(authPlugin, {
    apiKeys: config.API_KEYS,
    openPaths: OPEN_PATHS,
    ...options.auth,
  });
  return app;
}
