/**
 * A job's time limit as a signal (joined with the caller's), and whether it expired. A timer
 * cleared by `clear()` when the job ends: AbortSignal.timeout would keep one timer (and its
 * signal) alive per request for the whole limit, finished or not.
 */
export interface TimeLimit {
  signal: AbortSignal;
  /** The limit ran out (not the caller's signal). */
  readonly expired: boolean;
  clear(): void;
}

export function timeLimit(ms: number, caller?: AbortSignal): TimeLimit {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  return {
    signal: caller ? AbortSignal.any([caller, controller.signal]) : controller.signal,
    get expired(): boolean {
      return controller.signal.aborted;
    },
    clear: () => clearTimeout(timer),
  };
}
