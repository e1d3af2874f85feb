/** Figures as people read them. */

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '–';
  if (bytes < 1024 ** 2) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export function formatUptime(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** When a loaded model unloads: "in 4 min", "never" (keep-alive -1). */
export function formatExpiry(expiresAt: string | undefined, now = Date.now()): string {
  if (!expiresAt) return '–';
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at) || at - now > 10 * 365 * 86_400_000) return 'kept loaded';
  const seconds = Math.round((at - now) / 1000);
  if (seconds <= 0) return 'when idle';
  return `unloads in ${formatUptime(seconds)}`;
}
