/**
 * Waiting for the network at start: a service whose model is an hf: URI not
 * downloaded yet, started at boot before the network is up, used to exit at
 * once and be restarted by systemd five times in ten seconds, then given up
 * on. It now retries the download itself, backing off, for a bounded time.
 */

/** How long a start waits for the network before it fails (and systemd restarts it). */
export const NETWORK_WAIT_AT_START_MS = 10 * 60_000;
const FIRST_DELAY_MS = 2_000;
const MAX_DELAY_MS = 60_000;

/** Errors that mean "no route to the model's host now", as fetch and DNS raise them. */
const NETWORK_FAILURE =
  /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET/;

/** TLS failures (a proxy's certificate, an expired one) say "fetch failed" too, but waiting never fixes them. */
const TLS_FAILURE = /CERT|SSL|TLS|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|ERR_TLS/;

export function isNetworkFailure(error: unknown): boolean {
  let network = false;
  for (let cause = error, depth = 0; cause && depth < 5; depth += 1) {
    const { message, code } = cause as { message?: unknown; code?: unknown };
    const text = `${String(message ?? cause)} ${String(code ?? '')}`;
    if (TLS_FAILURE.test(text)) return false;
    if (NETWORK_FAILURE.test(text)) network = true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return network;
}

/** Delay before retry number `attempt` (1-based): 2 s, 4 s, 8 s … up to a minute. */
export function retryDelayMs(attempt: number, firstDelayMs = FIRST_DELAY_MS): number {
  return Math.min(firstDelayMs * 2 ** (attempt - 1), MAX_DELAY_MS);
}

export interface NetworkRetry {
  attempt: number;
  delayMs: number;
  error: Error;
}

export interface NetworkWaitOptions {
  /** Keep retrying network failures for this long (0: fail at once). */
  waitMs: number;
  /** First delay; doubles each retry up to a minute (tests shorten it). */
  firstDelayMs?: number;
  /** Called before each wait, and awaited (a test brings the network up here). */
  onRetry?(retry: NetworkRetry): void | Promise<void>;
}

/** Runs `attempt` until it succeeds, fails otherwise than for want of network, or time is up. */
export async function retryWhileOffline<T>(
  attempt: () => Promise<T>,
  options: NetworkWaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  for (let retry = 1; ; retry += 1) {
    try {
      return await attempt();
    } catch (error) {
      const delayMs = retryDelayMs(retry, options.firstDelayMs);
      if (!isNetworkFailure(error) || Date.now() + delayMs > deadline) throw error;
      await options.onRetry?.({
        attempt: retry,
        delayMs,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** What a start waiting for the network logs each time it tries again. */
export function networkRetryLine(
  source: string,
  { attempt, delayMs, error }: NetworkRetry,
): string {
  return `no network to download ${source} yet (${error.message}): trying again in ${Math.round(delayMs / 1000)} s (attempt ${attempt}; the start gives up after ${NETWORK_WAIT_AT_START_MS / 60_000} minutes)`;
}
