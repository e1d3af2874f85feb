import { checkStream } from '../sse.js';
import { health, MODEL, pool, type ScenarioResult, within } from '../target.js';

/**
 * `requests` streaming chats, `concurrency` at a time: none may fail or be a
 * 5xx, every stream must be well-formed, every sequence free afterwards, and
 * RSS after a warm-up must grow less than 10%.
 */
export async function loadScenario(
  url: string,
  requests = 200,
  concurrency = 16,
): Promise<ScenarioResult> {
  const failures: string[] = [];
  const ask = (index: number) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: `Story ${index}: once upon a time` }],
        max_tokens: 48,
        stream: true,
        seed: index,
      }),
    }).then(checkStream);

  // Warm-up: one round at full concurrency, so RSS is measured after the allocator settles.
  await pool([...Array(concurrency).keys()], concurrency, (index) => ask(index));
  const rssBefore = (await health(url)).rss_bytes;
  const started = performance.now();
  const results = await pool([...Array(requests).keys()], concurrency, (index) => ask(index));
  const seconds = (performance.now() - started) / 1000;
  const rssAfter = (await health(url)).rss_bytes;

  const failed = results.filter((result) => result.status !== 200).length;
  const serverErrors = results.filter((result) => result.status >= 500).length;
  const malformed = results.filter((result) => result.problems.length > 0);
  const freedMs = await within(async () => {
    const { queue } = await health(url);
    return queue.running === 0 && queue.waiting === 0;
  }, 2000);
  const growth = (rssAfter - rssBefore) / rssBefore;
  if (failed > 0) failures.push(`${failed} requests failed`);
  if (serverErrors > 0) failures.push(`${serverErrors} answered 5xx`);
  if (malformed.length > 0)
    failures.push(
      `${malformed.length} malformed streams, e.g. ${malformed[0]?.problems.join('; ')}`,
    );
  if (freedMs === undefined) failures.push('sequences still busy 2 s after the last stream');
  if (growth >= 0.1) failures.push(`RSS grew ${(growth * 100).toFixed(1)}% (limit 10%)`);
  return {
    name: `load: ${requests} streams, ${concurrency} at once`,
    figures: {
      failures: failed,
      '5xx': serverErrors,
      'malformed streams': malformed.length,
      'requests/s': (requests / seconds).toFixed(1),
      'chunks (median per stream)':
        results.map((result) => result.chunks).sort((a, b) => a - b)[
          Math.floor(results.length / 2)
        ] ?? 0,
      'RSS after warm-up (MiB)': (rssBefore / 2 ** 20).toFixed(1),
      'RSS after load (MiB)': (rssAfter / 2 ** 20).toFixed(1),
      'RSS growth': `${(growth * 100).toFixed(1)}%`,
    },
    failures,
  };
}
