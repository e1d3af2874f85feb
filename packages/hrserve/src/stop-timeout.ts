import { execFileSync } from 'node:child_process';
import type { BaseConfig } from './config.js';

/** Seconds kept between the end of the drain and the telemetry flush, and systemd's SIGKILL. */
const STOP_MARGIN_MS = 2_000;

const UNIT_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A systemd time span as `systemctl show` prints it ("37s", "1min 30s", "infinity"), in ms. */
export function parseTimespan(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'infinity') return Number.POSITIVE_INFINITY;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)\b/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join(' ') !== trimmed) return undefined;
  return parts.reduce(
    (sum, [, amount, unit]) => sum + Number(amount) * (UNIT_MS[unit ?? 's'] ?? 0),
    0,
  );
}

/**
 * How long systemd lets this service stop before SIGKILL, read from its own
 * unit (drop-ins included); undefined when not started by systemd
 * (INVOCATION_ID unset) or when systemctl does not answer.
 */
export function unitStopTimeoutMs(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
  show: (service: string) => string = (name) =>
    execFileSync(
      'systemctl',
      ['--user', 'show', '--property=TimeoutStopUSec', '--value', `${name}.service`],
      { encoding: 'utf8', timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore'] },
    ),
): number | undefined {
  if (!env.INVOCATION_ID) return undefined;
  try {
    return parseTimespan(show(service));
  } catch {
    return undefined;
  }
}

/**
 * The drain this service can afford: DRAIN_TIMEOUT_MS, or less when the drain
 * and the telemetry flush would outlast the unit's stop timeout (systemd would
 * SIGKILL mid-drain), with the warning that says so and how to raise it.
 */
export function effectiveDrain(
  config: Pick<BaseConfig, 'DRAIN_TIMEOUT_MS' | 'TELEMETRY_SHUTDOWN_TIMEOUT_MS' | 'SERVICE_NAME'>,
  stopTimeoutMs: number | undefined,
): { drainMs: number; warning?: string } {
  const wanted = config.DRAIN_TIMEOUT_MS;
  if (stopTimeoutMs === undefined || !Number.isFinite(stopTimeoutMs)) return { drainMs: wanted };
  const budget = stopTimeoutMs - config.TELEMETRY_SHUTDOWN_TIMEOUT_MS - STOP_MARGIN_MS;
  if (wanted <= budget) return { drainMs: wanted };
  const drainMs = Math.max(0, budget);
  const needed = Math.ceil((wanted + config.TELEMETRY_SHUTDOWN_TIMEOUT_MS + STOP_MARGIN_MS) / 1000);
  return {
    drainMs,
    warning: `DRAIN_TIMEOUT_MS=${wanted} with the telemetry flush (${config.TELEMETRY_SHUTDOWN_TIMEOUT_MS} ms) outlasts the unit's TimeoutStopSec (${stopTimeoutMs / 1000} s), after which systemd kills the service: draining for at most ${drainMs} ms. To drain longer: systemctl --user edit ${config.SERVICE_NAME}, add [Service] TimeoutStopSec=${needed}, then restart.`,
  };
}
