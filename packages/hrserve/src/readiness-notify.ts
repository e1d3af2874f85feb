import type { Health, HealthStatus } from './plugins/health.js';
import type { SystemdNotifier } from './systemd-notify.js';

/** How often a start that is still loading asks systemd for more time, and how much. */
export const EXTEND_EVERY_MS = 30_000;
export const EXTEND_BY_MS = 60_000;
/**
 * A start whose status has not changed for this long is stuck, not slow: it gets no more
 * time, and systemd's start timeout ends it. Download progress changes the status every
 * percent; loading weights is one status, and a large model can take minutes to read.
 */
export const STALLED_AFTER_MS = 5 * 60_000;

export interface ReadinessReportOptions {
  /** Where the service listens, for the STATUS= line once ready. */
  url: string;
  /**
   * How long a start (a model download and load) may go on: until then the
   * unit's TimeoutStartSec is extended every 30 s while the status keeps changing;
   * after it, or once stalled, systemd's own timeout applies and the start is
   * killed and restarted.
   */
  startupTimeoutMs: number;
  /** Milliseconds since some origin (tests); `performance.now` by default. */
  now?: () => number;
}

/**
 * Tells systemd what `/health` says: READY=1 the first time the service is
 * ok (so `systemctl start` returns once the model is loaded, not before),
 * STATUS= lines while it loads, STOPPING=1 when it drains. Returns the stop.
 */
export function reportReadinessToSystemd(
  health: Health,
  notifier: SystemdNotifier,
  options: ReadinessReportOptions,
): () => void {
  if (!notifier.enabled) return () => {};
  let ready = false;
  const now = options.now ?? (() => performance.now());
  const startedAt = now();
  let changedAt = startedAt;
  const extender = setInterval(() => {
    if (ready || now() - startedAt >= options.startupTimeoutMs) {
      clearInterval(extender);
      return;
    }
    // Progress only: a status unchanged for minutes is a hang systemd should end.
    if (now() - changedAt < STALLED_AFTER_MS) notifier.extendTimeout(EXTEND_BY_MS);
  }, EXTEND_EVERY_MS);
  extender.unref();

  const report = (status: HealthStatus, reason?: string) => {
    changedAt = now();
    switch (status) {
      case 'ok':
        if (!ready) notifier.ready(`serving on ${options.url}`);
        else notifier.status(`serving on ${options.url}`);
        ready = true;
        return;
      case 'draining':
        clearInterval(extender);
        notifier.stopping(reason ?? 'draining: finishing in-flight requests');
        return;
      default:
        notifier.status(reason ? `${status}: ${reason}` : status);
    }
  };
  report(health.status, health.reason);
  const unsubscribe = health.onChange(report);
  return () => {
    clearInterval(extender);
    unsubscribe();
  };
}
