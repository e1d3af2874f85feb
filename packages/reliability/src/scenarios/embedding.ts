import type { SpawnedService } from '@hrserve/test-support/spawn';
import { health, MODEL, median, type ScenarioResult, startEmbed, within } from '../target.js';

const LARGE = Array.from({ length: 2000 }, (_, index) => `${index} the cat ran to the big tree`);
// The 2,000 inputs take 30,890 tokens of stories260K.
const MAX_REQUEST_TOKENS = 40_000;

const embed = (url: string, input: string[] | string, signal?: AbortSignal) =>
  fetch(`${url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, input }),
    ...(signal ? { signal } : {}),
  });

async function timed(request: () => Promise<Response>): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await request();
  await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status };
}

/**
 * Issue 17, item 3: one 2,000-input request among others. A one-input request
 * sent while it runs is answered before it (round-robin between requests, not
 * first come first served); a client that leaves frees the engine long before
 * its inputs would have been done; the per-request limits answer 400/413
 * naming the setting.
 */
export async function embeddingFairnessScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const figures: Record<string, string | number> = {};
  const service = await startEmbed({ EMBED_MAX_REQUEST_TOKENS: String(MAX_REQUEST_TOKENS) });
  const { url } = service;
  try {
    const alone: number[] = [];
    for (let round = 0; round < 5; round++)
      alone.push((await timed(() => embed(url, 'Once upon a time'))).ms);
    const large = timed(() => embed(url, LARGE));
    await within(async () => (await health(url)).queue.running === 1, 5000);
    const order: string[] = [];
    const beside = timed(() => embed(url, 'Once upon a time')).then((result) => {
      order.push('one input');
      return result;
    });
    const [largeResult, besideResult] = await Promise.all([
      large.then((result) => {
        order.push('2,000 inputs');
        return result;
      }),
      beside,
    ]);
    figures['one input alone, median of 5 (ms)'] = median(alone).toFixed(0);
    figures['one input beside the 2,000 (ms)'] = besideResult.ms.toFixed(0);
    figures['the 2,000 inputs (ms)'] = largeResult.ms.toFixed(0);
    figures['finished first'] = order[0] ?? '-';
    if (largeResult.status !== 200 || besideResult.status !== 200)
      failures.push(`statuses ${largeResult.status} and ${besideResult.status}`);
    if (order[0] !== 'one input')
      failures.push('the one-input request waited for all 2,000 inputs (first come, first served)');

    // A client that leaves a moment after sending 2,000 inputs: the engine is free long before they would be done.
    const controller = new AbortController();
    const left = embed(url, LARGE, controller.signal).catch(() => undefined);
    await within(async () => (await health(url)).queue.running === 1, 5000);
    controller.abort();
    await left;
    const freedMs = await within(async () => (await health(url)).queue.running === 0, 30_000);
    figures['engine free after the client left (ms)'] =
      freedMs === undefined ? '> 30000' : freedMs.toFixed(0);
    if (freedMs === undefined || freedMs > largeResult.ms / 2)
      failures.push('the inputs of a client that left were still embedded');

    const limits: Array<[string, string[], number, string]> = [
      ['2,049 inputs', Array.from({ length: 2049 }, () => 'x'), 400, 'EMBED_MAX_INPUTS'],
      [
        `more than ${MAX_REQUEST_TOKENS} tokens`,
        Array.from({ length: 400 }, () => 'the cat ran to the big tree '.repeat(20)),
        413,
        'EMBED_MAX_REQUEST_TOKENS',
      ],
    ];
    for (const [label, input, status, setting] of limits) {
      const response = await embed(url, input);
      const text = await response.text();
      figures[label] = `${response.status}${text.includes(setting) ? `, names ${setting}` : ''}`;
      if (response.status !== status || !text.includes(setting))
        failures.push(`${label}: ${response.status} ${text.slice(0, 120)}`);
    }
    const after = await embed(url, ['still', 'serving']);
    if (after.status !== 200) failures.push(`a request afterwards got ${after.status}`);
    await after.arrayBuffer();
  } finally {
    await service.stop();
  }
  return { name: 'embedding: one large request among others', figures, failures };
}

/**
 * Issue 17, item 5 (embed): SIGTERM while 2,000 inputs are embedded. The
 * request is answered in full, a new one gets 503 with Retry-After, and the
 * process exits 0 after freeing the model.
 */
export async function embedSigtermScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const service = await startEmbed({ DRAIN_TIMEOUT_MS: '60000' });
  try {
    return await sigtermWhileEmbedding(service, failures);
  } finally {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
  }
}

async function sigtermWhileEmbedding(
  service: SpawnedService,
  failures: string[],
): Promise<ScenarioResult> {
  const running = embed(service.url, LARGE);
  await within(async () => (await health(service.url)).queue.running === 1, 5000);
  service.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const late = await embed(service.url, 'too late')
    .then((response) => ({
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
    }))
    .catch(() => ({ status: 0, retryAfter: null }));
  const answer = await running;
  const vectors =
    answer.status === 200 ? ((await answer.json()) as { data: unknown[] }).data.length : 0;
  const exit = await service.exited;
  const disposedUnder = /disposed/i.test(service.stderr());
  if (answer.status !== 200 || vectors !== LARGE.length)
    failures.push(`the running request got ${answer.status} with ${vectors} vectors`);
  if (late.status !== 503 || !late.retryAfter)
    failures.push(`a request while draining got ${late.status} (Retry-After ${late.retryAfter})`);
  if (exit.code !== 0) failures.push(`exit ${exit.code ?? exit.signal}`);
  if (disposedUnder) failures.push('the model was freed under running work');
  return {
    name: 'embed: SIGTERM with 2,000 inputs in flight',
    figures: {
      'vectors of the running request': `${vectors}/${LARGE.length}`,
      'request while draining': `${late.status} (Retry-After ${late.retryAfter ?? '-'})`,
      'exit code': exit.code ?? `signal ${exit.signal}`,
    },
    failures,
  };
}
