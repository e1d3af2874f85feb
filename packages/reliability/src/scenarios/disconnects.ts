import { health, MODEL, pool, type ScenarioResult, within } from '../target.js';

/**
 * `clients` streams, each dropped after a random number of chunks: the server
 * stays healthy, every sequence is free within 1 s, the next 20 requests succeed.
 */
export async function disconnectScenario(url: string, clients = 100): Promise<ScenarioResult> {
  const failures: string[] = [];
  await pool([...Array(clients).keys()], 16, async (index) => {
    const controller = new AbortController();
    const dropAfter = Math.floor(Math.random() * 12);
    try {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: `Drop ${index}` }],
          max_tokens: 400,
          ignore_eos: true,
          stream: true,
        }),
        signal: controller.signal,
      });
      let seen = 0;
      for await (const _bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (++seen > dropAfter) break;
      }
    } catch {
      // the abort itself
    } finally {
      controller.abort();
    }
  });
  const releasedMs = await within(async () => {
    const { queue } = await health(url);
    return queue.running === 0 && queue.waiting === 0;
  }, 1000);
  if (releasedMs === undefined) failures.push('sequences still busy 1 s after the last disconnect');
  const status = (await health(url)).status;
  if (status !== 'ok') failures.push(`health is ${status}`);
  const after = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: `After ${index}` }],
          max_tokens: 8,
        }),
      }).then((response) => response.status),
    ),
  );
  const ok = after.filter((code) => code === 200).length;
  if (ok !== 20) failures.push(`${20 - ok} of the next 20 requests failed`);
  return {
    name: `disconnect storm: ${clients} clients dropping mid-stream`,
    figures: {
      'all sequences free after (ms)': releasedMs === undefined ? '> 1000' : releasedMs.toFixed(0),
      health: status,
      'next 20 requests ok': ok,
    },
    failures,
  };
}
