import type { FastifyInstance } from 'fastify';
import { type BaseConfig, CONFIG_ERROR_EXIT_CODE } from './config.js';
import { isSupportedNode, SUPPORTED_NODE } from './node-version.js';
import { portConflict, tablePort } from './port-table.js';
import { reportReadinessToSystemd } from './readiness-notify.js';
import { settingsFileOf, settingsFileWarning } from './settings-file.js';
import { effectiveDrain, unitStopTimeoutMs } from './stop-timeout.js';
import { systemdNotifier } from './systemd-notify.js';
import { getActiveTelemetry, type Telemetry } from './telemetry/setup.js';

export interface ServeOptions {
  /** Flushed at shutdown; defaults to what `setupOtel` started. */
  telemetry?: Telemetry;
}

export interface RunningService {
  /** The address it listens on, e.g. `http://127.0.0.1:2020`. */
  url: string;
  /** Drains and stops; resolves when stopped (does not exit the process). */
  stop(): Promise<void>;
}

/**
 * Listens and handles SIGTERM/SIGINT gracefully, for a service's `main.ts`:
 * on the first signal the service reports "draining" (503 on /health, 503
 * with Retry-After to new requests), lets in-flight requests and streams
 * finish for up to DRAIN_TIMEOUT_MS, closes, flushes telemetry (bounded) and
 * exits 0, so systemd sees a clean stop. A second signal exits at once.
 */
export async function serve(
  app: FastifyInstance,
  config: BaseConfig,
  options: ServeOptions = {},
): Promise<RunningService> {
  const telemetry = options.telemetry ?? getActiveTelemetry();
  const url = await listenOrExit(app, config);
  // Handlers first: a signal from here on drains, even one sent the instant "serving" is logged.
  // Under systemd the drain must end before the unit's TimeoutStopSec (drop-ins included).
  const drain = effectiveDrain(config, unitStopTimeoutMs(config.SERVICE_NAME));
  if (drain.warning) app.log.warn(drain.warning);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= drainAndClose(app, drain.drainMs, telemetry);
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
      process.exit(1);
    }
    app.log.info(
      { signal, in_flight: app.lifecycle.inFlight },
      'shutting down: draining in-flight requests',
    );
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // The exact Node version goes to the log and /metrics (nodejs_version_info), not to the
  // open /health.
  app.log.info({ url, node: process.version }, 'serving');
  if (!isSupportedNode(process.version)) {
    app.log.warn(
      { node: process.version, supported: SUPPORTED_NODE },
      `Node.js ${process.version} is not one hrserve supports (24.11+ or 26+): start it through ./pnpm, or link a Node 24 with install-units`,
    );
  }
  const settingsWarning = settingsFileWarning(settingsFileOf(config.SERVICE_NAME));
  if (settingsWarning) app.log.warn(settingsWarning);
  // Type=notify: `systemctl start` returns once /health is ok (READY=1), not at listen.
  const notifier = systemdNotifier(process.env, {
    onError: (error) =>
      app.log.warn(
        { err: error },
        'could not notify systemd through systemd-notify: the unit (Type=notify) will time out its start; is systemd-notify on PATH?',
      ),
  });
  reportReadinessToSystemd(app.health, notifier, {
    url,
    startupTimeoutMs: config.STARTUP_TIMEOUT_MS,
  });
  // A service that loads something (a model) sets "loading" itself and "ok" when done.
  if (app.health.status === 'starting') app.health.set('ok');

  return { url, stop };
}

async function drainAndClose(
  app: FastifyInstance,
  drainTimeoutMs: number,
  telemetry: Telemetry,
): Promise<void> {
  app.health.set('draining');
  app.lifecycle.startDraining();
  const drained = await app.lifecycle.waitForIdle(drainTimeoutMs);
  if (!drained) {
    app.log.warn(
      { in_flight: app.lifecycle.inFlight, drain_timeout_ms: drainTimeoutMs },
      'drain timeout reached: closing the remaining connections',
    );
    app.server.closeAllConnections();
  }
  await app.close();
  await telemetry.shutdown();
  app.log.info('stopped');
}

/**
 * Why the address cannot be had, as one line with the fix. A restart cannot fix
 * these, so the service exits with EX_CONFIG (78), which the unit does not
 * restart on, instead of a stack and exit 1 restarted until the start limit.
 */
function addressProblem(code: string, config: BaseConfig): string | undefined {
  const where = `port ${config.PORT} on ${config.HOST}`;
  switch (code) {
    case 'EADDRINUSE':
      return `${where} is already in use by another process (see which: ss -ltnp 'sport = :${config.PORT}'). Stop it, or give ${config.SERVICE_NAME} another PORT (the port table: systemd/ports.json).`;
    case 'EACCES':
      return `${where} may not be opened by this user (ports below 1024 need privileges). Use a PORT from 1024 up.`;
    case 'EADDRNOTAVAIL':
      return `HOST=${config.HOST} is not an address of this machine (${where}). Use 127.0.0.1, 0.0.0.0 or one of \`ip -brief address\`.`;
    default:
      return undefined;
  }
}

async function listenOrExit(app: FastifyInstance, config: BaseConfig): Promise<string> {
  // Under its unit a service must be where the port table says, or no client finds it.
  const conflict = portConflict(config.SERVICE_NAME, config.PORT, tablePort(config.SERVICE_NAME));
  if (conflict && process.env.INVOCATION_ID) {
    app.log.fatal(conflict);
    process.stderr.write(`${config.SERVICE_NAME}: ${conflict}\n`);
    process.exit(CONFIG_ERROR_EXIT_CODE);
  }
  if (conflict) app.log.warn(conflict);
  try {
    return await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    const problem = addressProblem((error as { code?: string }).code ?? '', config);
    if (!problem) throw error;
    app.log.fatal({ err: error }, problem);
    process.stderr.write(`${config.SERVICE_NAME}: ${problem}\n`);
    process.exit(CONFIG_ERROR_EXIT_CODE);
  }
}
