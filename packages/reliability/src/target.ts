import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support/spawn';

export { median } from '@hrserve/test-support/stats';

export const LLMCHAT_ROOT = fileURLToPath(new URL('../../../services/llmchat/', import.meta.url));
export const EMBED_ROOT = fileURLToPath(new URL('../../../services/embed/', import.meta.url));
export const MODELS_DIR = fileURLToPath(new URL('../../../../shared/models/', import.meta.url));
export const STORIES = `${MODELS_DIR}stories260K.gguf`;
export const MODEL = 'stories260K';

/** What a scenario reports: its figures, and every criterion it missed (none: passed). */
export interface ScenarioResult {
  name: string;
  figures: Record<string, string | number>;
  failures: string[];
}

/** A real llmchat process on stories260K, as its unit runs it. */
export async function startLlmchat(env: Record<string, string> = {}): Promise<SpawnedService> {
  const service = await spawnService({
    cwd: LLMCHAT_ROOT,
    env: { LLMCHAT_MODEL: STORIES, ...env },
  });
  await service.waitForLog((line) => line.msg === 'model loaded', 60_000);
  return service;
}

/**
 * The log line llmchat writes when `model` starts loading (`loading model`) or
 * has loaded (`model loaded`); rejects past `timeoutMs`.
 */
export function modelLog(
  service: SpawnedService,
  message: 'loading model' | 'model loaded',
  model: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  return service.waitForLog(
    (line) => line.msg === message && JSON.stringify(line.model).includes(model),
    timeoutMs,
  );
}

/** A real embed process on stories260K, as its unit runs it. */
export async function startEmbed(env: Record<string, string> = {}): Promise<SpawnedService> {
  const service = await spawnService({ cwd: EMBED_ROOT, env: { EMBED_MODEL: STORIES, ...env } });
  await service.waitForLog((line) => line.msg === 'model loaded', 60_000);
  return service;
}

/** The sum of a Prometheus metric's samples whose labels include `labels` (0 when none). */
export async function metric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const wanted = Object.entries(labels).every(([key, value]) =>
      (match[2] ?? '').includes(`${key}="${value}"`),
    );
    if (wanted) sum += Number(match[3]);
  }
  return sum;
}

export interface Health {
  status: string;
  queue: { running: number; waiting: number; rejected: number };
  rss_bytes: number;
}

export async function health(url: string, headers: Record<string, string> = {}): Promise<Health> {
  return (await (await fetch(`${url}/health`, { headers })).json()) as Health;
}

/** Polls until `condition` holds; returns the ms it took, or undefined past `timeoutMs`. */
export async function within(
  condition: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started <= timeoutMs) {
    if (await condition()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

/** Runs `task` over `items` with at most `limit` at once. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let index = next++; index < items.length; index = next++) {
        results[index] = await task(items[index] as T, index);
      }
    }),
  );
  return results;
}
