/** The longest delay `setTimeout` honours (2^31 - 1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

/**
 * `setTimeout` for any delay: a delay over MAX_TIMER_MS is waited in steps
 * (Node fires an over-long timer at once, with a warning). Unref'd, like every
 * housekeeping timer: it never keeps the process alive.
 */
export function longTimeout(callback: () => void, ms: number): LongTimeout {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  const arm = (left: number) => {
    if (cleared) return;
    const step = Math.min(left, MAX_TIMER_MS);
    timer = setTimeout(() => (left > step ? arm(left - step) : callback()), step);
    timer.unref();
  };
  arm(Math.max(0, ms));
  return {
    clear: () => {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
