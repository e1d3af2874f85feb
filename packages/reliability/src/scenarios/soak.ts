import {
  health,
  MODEL,
  MODELS_DIR,
  metric,
  pool,
  type ScenarioResult,
  startLlmchat,
} from '../target.js';

const MIB = 2 ** 20;

/**
 * The soaks' services run with a 192 MB old generation (the live heap is
 * ≈ 45 MB). Left to itself on a large host, V8 lets garbage grow to several
 * times the live heap before it collects, so RSS wanders by 20–40 MB over a few
 * thousand requests and back (15,000 unique schemas: 194 MiB, then 204, then
 * 210; a full GC brought one run from 388 to 329), which would both hide a leak
 * and mimic one. With the slack bounded, RSS is flat to 1% (measured), and a leak
 * shows as growth, or as an out-of-memory exit, both failures here.
 */
const LEAK_TEST_HEAP = '--max-old-space-size=192';

/**
 * RSS without the buffers JavaScript has let go of but V8 has not collected
 * yet (a model load reads its GGUF header into 16 MB of them): those are
 * garbage, not growth, and would otherwise decide the result by GC timing.
 */
async function residentBytes(url: string): Promise<number> {
  const { rss_bytes } = await health(url);
  return rss_bytes - (await metric(url, 'nodejs_external_memory_bytes'));
}

interface Soak {
  /** What each request makes unique. */
  what: string;
  requests: number;
  /** RSS is first read after this many. */
  settle: number;
  body: (index: number) => Record<string, unknown>;
  /**
   * Requests of the same kind sent first, not counted: a fresh process grows
   * for its first thousands of requests whatever they are (V8's young
   * generation is touched page by page, its old generation and the allocator's
   * arenas settle at their working size: +17 MB between the 500th and the
   * 1,000th request with one schema). A leak is what keeps growing after that.
   */
  warmUp?: { requests: number; body: (index: number) => Record<string, unknown> };
}

/**
 * Requests that each leave something new behind (a grammar, a prefix, a model
 * load): RSS after all of them must stay within 10% of RSS after the first
 * `settle`, every request must succeed, and the service must end healthy and idle.
 */
async function soak(url: string, spec: Soak, concurrency: number): Promise<ScenarioResult> {
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const send = async (body: Record<string, unknown>) => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const ask = async (index: number) => {
    const status = await send(spec.body(index));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };
  const warmUp = spec.warmUp;
  const warmFailures = warmUp
    ? (
        await pool([...Array(warmUp.requests).keys()], concurrency, (index) =>
          send(warmUp.body(index)),
        )
      ).filter((status) => status !== 200).length
    : 0;
  if (warmFailures > 0) failures.push(`${warmFailures} warm-up requests failed`);
  const warm = await residentBytes(url);
  const indexes = [...Array(spec.requests).keys()];
  const started = performance.now();
  await pool(indexes.slice(0, spec.settle), concurrency, ask);
  const settled = await residentBytes(url);
  // RSS every 10%, so a failure shows a slope (a leak) or a step (an allocator growing once).
  const series: number[] = [];
  const step = Math.max(1, Math.floor(spec.requests / 10));
  for (let from = spec.settle; from < spec.requests; from += step) {
    await pool(indexes.slice(from, Math.min(from + step, spec.requests)), concurrency, ask);
    series.push(await residentBytes(url));
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await health(url);
  const resident = await residentBytes(url);
  const growth = (resident - settled) / settled;
  const ok = statuses.get(200) ?? 0;
  if (ok !== spec.requests)
    failures.push(
      `${spec.requests - ok} requests failed: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  const middle = series[Math.floor(series.length / 2)] ?? settled;
  const lateGrowth = (resident - middle) / middle;
  if (growth > 0.1) failures.push(`RSS grew ${(growth * 100).toFixed(1)}% (limit 10%)`);
  if (after.status !== 'ok') failures.push(`health is ${after.status} afterwards`);
  if (after.queue.running + after.queue.waiting > 0) failures.push('sequences still busy');
  return {
    name: `soak: ${spec.requests} requests with ${spec.what}`,
    figures: {
      ...(warmUp
        ? { [`RSS after ${warmUp.requests} warm-up requests (MiB)`]: (warm / MIB).toFixed(1) }
        : {}),
      'requests ok': `${ok}/${spec.requests}`,
      [`RSS after the first ${spec.settle} (MiB)`]: (settled / MIB).toFixed(1),
      [`RSS after all ${spec.requests} (MiB)`]: (resident / MIB).toFixed(1),
      'RSS growth': `${(growth * 100).toFixed(1)}%`,
      'RSS every 10% of the rest (MiB)': series.map((bytes) => (bytes / MIB).toFixed(0)).join(' '),
      'RSS growth over the second half': `${(lateGrowth * 100).toFixed(1)}%`,
      'requests/s': (spec.requests / seconds).toFixed(1),
    },
    failures,
  };
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: 'user', content }],
  max_tokens: 8,
  ...extra,
});

/** A JSON schema no other request sends: a new grammar each time (issue 17, item 6). */
function uniqueSchema(index: number): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      [`name_${index}`]: { type: 'string', maxLength: 4 + (index % 9) },
      [`count_${index % 97}`]: { type: 'integer', minimum: 0 },
      tags: { type: 'array', items: { enum: [`t${index}`, `u${index % 13}`] } },
    },
    required: [`name_${index}`],
    additionalProperties: false,
  };
}

/** Unique schemas, unique prompts: the grammar cache and the prefix cache stay bounded. */
export async function uniqueRequestsSoak(scale = 1): Promise<ScenarioResult[]> {
  const service = await startLlmchat({ LLMCHAT_PARALLEL: '4', NODE_OPTIONS: LEAK_TEST_HEAP });
  try {
    const requests = 5000 * scale;
    const schemas = await soak(
      service.url,
      {
        what: 'unique JSON schemas',
        requests,
        settle: 500,
        warmUp: {
          requests: 2000,
          // Unique too, and unlike any of the measured ones.
          body: (index) =>
            chat('Fill in a record', {
              response_format: {
                type: 'json_schema',
                json_schema: { name: 'w', schema: uniqueSchema(1_000_000 + index) },
              },
            }),
        },
        body: (index) =>
          chat(`Fill in record ${index}`, {
            response_format: {
              type: 'json_schema',
              json_schema: { name: `r${index}`, schema: uniqueSchema(index) },
            },
          }),
      },
      4,
    );
    const prompts = await soak(
      service.url,
      {
        what: 'unique prompts',
        requests,
        settle: 500,
        body: (index) =>
          chat(`Tale ${index * 7919}: a ${index % 2 ? 'cat' : 'dog'} named ${index.toString(36)}`),
      },
      4,
    );
    return [schemas, prompts];
  } finally {
    await service.stop();
  }
}

/** Two models taking turns with room for one: every request loads a model and unloads the other. */
export async function modelCyclesSoak(scale = 1): Promise<ScenarioResult> {
  const models = ['stories260K', 'synth-30M-q8_0'];
  const service = await startLlmchat({
    LLMCHAT_MODELS_DIR: MODELS_DIR,
    LLMCHAT_MAX_LOADED_MODELS: '1',
    NODE_OPTIONS: LEAK_TEST_HEAP,
  });
  try {
    const loads = 100 * scale;
    const result = await soak(
      service.url,
      {
        what: `a model load each (${models.join(' and ')} in turn, LLMCHAT_MAX_LOADED_MODELS=1)`,
        requests: loads,
        settle: 10,
        // The default model is loaded at start, so the first request already loads the other.
        body: (index) => ({ ...chat(`Load ${index}`), model: models[(index + 1) % 2] }),
      },
      1,
    );
    result.figures.loads = loads;
    return result;
  } finally {
    await service.stop();
  }
}
