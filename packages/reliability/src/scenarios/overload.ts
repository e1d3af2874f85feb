import { health, MODEL, median, type ScenarioResult, within } from '../target.js';

/**
 * Three times the queue's capacity (sequences + waiting places) at once: the
 * excess is refused with 429/503 and Retry-After at once — every refusal arrives
 * before the first admitted request finishes, so none waited behind a generation
 * (an order, not a time: it holds on a loaded machine too; the times are reported);
 * the admitted finish.
 */
export async function overloadScenario(url: string, capacity: number): Promise<ScenarioResult> {
  const failures: string[] = [];
  const burst = () =>
    Promise.all(
      Array.from({ length: capacity * 3 }, async (_, index) => {
        const started = performance.now();
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: MODEL,
            messages: [{ role: 'user', content: `Overload ${index}` }],
            max_tokens: 64,
            ignore_eos: true,
          }),
        });
        const ms = performance.now() - started;
        await response.arrayBuffer();
        return { status: response.status, ms, retryAfter: response.headers.get('retry-after') };
      }),
    );
  // One burst first, discarded: the figure is the steady state, not the first run of each code path
  // (JIT) or the client opening its connections.
  await burst();
  await within(async () => (await health(url)).queue.running === 0, 10_000);
  const results = await burst();
  const refused = results.filter((result) => result.status === 429 || result.status === 503);
  const admitted = results.filter((result) => result.status === 200);
  const other = results.filter((result) => ![200, 429, 503].includes(result.status));
  const firstAnswer = Math.min(...admitted.map((result) => result.ms));
  const lateRefusals = refused.filter((result) => result.ms >= firstAnswer);
  if (admitted.length !== capacity)
    failures.push(`${admitted.length} admitted, expected ${capacity}`);
  if (refused.length !== capacity * 2)
    failures.push(`${refused.length} refused, expected ${capacity * 2}`);
  if (other.length > 0)
    failures.push(`${other.length} answered ${other.map((result) => result.status).join(',')}`);
  if (refused.some((result) => !result.retryAfter)) failures.push('a refusal without Retry-After');
  if (lateRefusals.length > 0) {
    failures.push(
      `${lateRefusals.length} refusals came after the first admitted answer (${firstAnswer.toFixed(0)} ms): they waited for work`,
    );
  }
  return {
    name: `overload: ${capacity * 3} requests at once, capacity ${capacity}`,
    figures: {
      admitted: admitted.length,
      refused: refused.length,
      'refusal time, median (ms)': median(refused.map((result) => result.ms)).toFixed(1),
      'refusal time, max (ms)': Math.max(0, ...refused.map((result) => result.ms)).toFixed(1),
      'first admitted answer (ms)': firstAnswer.toFixed(1),
      'Retry-After': refused[0]?.retryAfter ?? '-',
    },
    failures,
  };
}
