/** A keep-alive that never expires (Ollama: any negative duration). */
export const FOREVER = Number.POSITIVE_INFINITY;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Ollama's `keep_alive`, in ms: a number of seconds, or a duration string
 * ("5m", "1h30m", "90s", "250ms", "-1m"); negative keeps the model loaded for
 * good, 0 unloads it as soon as its requests are done. Undefined when the
 * value is not one of those.
 */
export function parseKeepAlive(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return undefined;
    if (value < 0) return FOREVER;
    // Seconds too many to count in ms (1e300) are forever too.
    return Number.isFinite(value * 1000) ? value * 1000 : FOREVER;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return parseKeepAlive(Number(text));
  const match = /^(-)?((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/.exec(text);
  if (!match) return undefined;
  let total = 0;
  for (const [, amount, unit] of (match[2] ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit ?? 's'] ?? 1000);
  }
  return match[1] || !Number.isFinite(total) ? FOREVER : total;
}

/** Where Ollama's `expires_at` puts "forever"; later expiries are shown as this too. */
const FOREVER_AT = Date.UTC(2318, 0, 1);

/**
 * The keep-alive as Ollama reports `expires_at`. Capped: a keep-alive of 1e13
 * seconds is past the last date JavaScript can write (and used to fail /api/ps).
 */
export function expiresAt(lastUsedAt: number, keepAliveMs: number): string {
  return new Date(Math.min(lastUsedAt + keepAliveMs, FOREVER_AT)).toISOString();
}
