/**
 * The figures of stored responses, in one run:
 * - a previous_response_id chain: time to first token of turn 1 and of turn 10 (which reads
 *   nine earlier turns, mostly from the KV cache), chains interleaved, medians and ratio;
 * - the store's write latency (create, then complete) at 16 writers at once, p50 and p99,
 *   on SQLite and, when Debian's PostgreSQL is installed, on PostgreSQL.
 *
 *   pnpm --filter llmchat bench:responses [--model <gguf>] [--chains 5] [--writes 800]
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore, type StoreOptions } from '@hrserve/store';
import { startPostgres } from '@hrserve/test-support/postgres';
import { spawnService } from '@hrserve/test-support/spawn';
import { median } from './stats.js';

const PACKAGE_ROOT = new URL('../', import.meta.url);

const { values } = parseArgs({
  options: {
    model: {
      type: 'string',
      default: fileURLToPath(new URL('../../../shared/models/synth-30M-q8_0.gguf', PACKAGE_ROOT)),
    },
    chains: { type: 'string', default: '5' },
    turns: { type: 'string', default: '10' },
    writes: { type: 'string', default: '800' },
  },
});
const chains = Number(values.chains);
const turns = Number(values.turns);
const writes = Number(values.writes);

/** Streams one turn; resolves with its id and the ms to its first output_text delta. */
async function turn(
  url: string,
  body: Record<string, unknown>,
): Promise<{ id: string; ttftMs: number }> {
  const startedAt = performance.now();
  const response = await fetch(`${url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok || !response.body)
    throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  let ttftMs = -1;
  let id = '';
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (ttftMs < 0 && text.includes('"type":"response.output_text.delta"')) {
      ttftMs = performance.now() - startedAt;
    }
    id ||= /"id":"(resp_[0-9a-f]+)"/.exec(text)?.[1] ?? '';
  }
  return { id, ttftMs };
}

async function chainTtft(url: string): Promise<void> {
  const model = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
  const name = model.data[0]?.id ?? '';
  const first: number[] = [];
  const last: number[] = [];
  // Chains advance together, one turn of each in turn, so drift weighs on every turn alike.
  const previous: string[] = Array.from({ length: chains }, () => '');
  const firstOf: number[] = [];
  for (let step = 0; step < turns; step++) {
    for (let chain = 0; chain < chains; chain++) {
      const { id, ttftMs } = await turn(url, {
        model: name,
        input: `Chain ${chain}, turn ${step}: once upon a time, in a small village by the sea, there lived a girl who loved to tell stories.`,
        max_output_tokens: 32,
        temperature: 0,
        ...(previous[chain] ? { previous_response_id: previous[chain] } : {}),
      });
      previous[chain] = id;
      if (step === 0) firstOf[chain] = ttftMs;
      if (step === turns - 1) {
        first.push(firstOf[chain] ?? 0);
        last.push(ttftMs);
      }
    }
  }
  const ratio = median(last) / median(first);
  console.log(
    `previous_response_id chains (${chains} chains of ${turns} turns, 32 output tokens each)`,
  );
  console.log(`  TTFT turn 1:  median ${median(first).toFixed(1)} ms`);
  console.log(
    `  TTFT turn ${turns}: median ${median(last).toFixed(1)} ms  (${ratio.toFixed(2)}× turn 1; target ≤ 1.2×)`,
  );
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

async function storeWrites(label: string, options: StoreOptions): Promise<void> {
  const store = await openStore(options);
  const created: number[] = [];
  const completed: number[] = [];
  let next = 0;
  const body = (id: string, status: string) => ({ id, object: 'response', status, output: [] });
  const writer = async () => {
    while (next < writes) {
      const id = `resp_bench_${next++}_${Math.random().toString(16).slice(2)}`;
      let startedAt = performance.now();
      await store.responses.create({
        id,
        status: 'in_progress',
        model: 'bench',
        createdAt: Date.now(),
        body: body(id, 'in_progress'),
        inputItems: [
          { id: `msg_${id}`, type: 'message', role: 'user', content: 'x'.repeat(200) } as never,
        ],
      });
      created.push(performance.now() - startedAt);
      startedAt = performance.now();
      await store.responses.markCompleted(id, { body: body(id, 'completed'), at: Date.now() });
      completed.push(performance.now() - startedAt);
    }
  };
  await Promise.all(Array.from({ length: 16 }, writer));
  await store.close();
  const line = (name: string, ms: number[]) =>
    `  ${name}: p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`;
  console.log(`store writes on ${label} (16 writers, ${writes} responses)`);
  console.log(line('create (response + input item)', created));
  console.log(line('complete (final body)          ', completed));
}

const server = await spawnService({
  cwd: fileURLToPath(PACKAGE_ROOT),
  env: { LLMCHAT_MODEL: values.model, LLMCHAT_THREADS: '2' },
  startTimeoutMs: 120_000,
});
try {
  await server.waitForLog((line) => line.msg === 'model loaded', 120_000);
  await server.waitForLog((line) => String(line.msg).startsWith('response store open'), 60_000);
  await chainTtft(server.url);
} finally {
  await server.stop();
}

await storeWrites('SQLite (synchronous=FULL)', {
  service: 'bench',
  dataDir: await mkdtemp(join(tmpdir(), 'bench-store-')),
});
try {
  const postgres = await startPostgres();
  try {
    await storeWrites('PostgreSQL (fsync off: a test server)', {
      service: 'bench',
      databaseUrl: await postgres.createDatabase(),
    });
  } finally {
    await postgres.dispose();
  }
} catch (error) {
  console.log(`PostgreSQL skipped: ${error instanceof Error ? error.message : String(error)}`);
}
