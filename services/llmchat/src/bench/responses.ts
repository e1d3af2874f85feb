/**
 * The figures of stored responses, in one run:
 * - previous_response_id chains: time to first token of turn 1 and of turn 10 (which reads
 *   nine earlier turns, mostly from the KV cache), beside the same turns as chat completions
 *   that send the whole history each time (the stateless reference), interleaved;
 * - sampled chains: how many turns evaluate part of the earlier answer again;
 * - the store's write latency (create, then complete) at 16 writers at once, p50 and p99,
 *   on SQLite and, when Debian's PostgreSQL is installed, on PostgreSQL.
 *
 *   pnpm --filter llmchat bench:responses [--model <gguf>] [--chains 3] [--writes 800] [--llama-server]
 *
 * --llama-server runs the stateless chains on llama.cpp's llama-server too, the reference.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore, type StoreOptions } from '@hrserve/store';
import { startPostgres } from '@hrserve/test-support/postgres';
import { spawnService } from '@hrserve/test-support/spawn';
import { llamaServerBinary } from './llama-server-binary.js';
import { startLlamaServer } from './processes.js';
import { median } from './stats.js';

const PACKAGE_ROOT = new URL('../', import.meta.url);

const { values } = parseArgs({
  options: {
    model: {
      type: 'string',
      default: fileURLToPath(new URL('../../../shared/models/synth-30M-q8_0.gguf', PACKAGE_ROOT)),
    },
    chains: { type: 'string', default: '3' },
    turns: { type: 'string', default: '10' },
    writes: { type: 'string', default: '800' },
    'llama-server': { type: 'boolean', default: false },
  },
});
const chains = Number(values.chains);
const turns = Number(values.turns);
const writes = Number(values.writes);

/** Streams one request; resolves with the ms to its first text delta and the whole stream. */
async function streamed(
  url: string,
  path: string,
  body: Record<string, unknown>,
  firstDelta: RegExp,
): Promise<{ ttftMs: number; text: string }> {
  const startedAt = performance.now();
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok || !response.body)
    throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  let ttftMs = -1;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (ttftMs < 0 && firstDelta.test(text)) ttftMs = performance.now() - startedAt;
  }
  return { ttftMs, text };
}

const message = (chain: number, step: number) =>
  `Chain ${chain}, turn ${step}: once upon a time, in a small village by the sea, there lived a girl who loved to tell stories.`;

/** One turn of a stored chain: resolves with its id and TTFT. */
async function responsesTurn(
  url: string,
  model: string,
  chain: number,
  step: number,
  previous: string,
): Promise<{ id: string; ttftMs: number }> {
  const { ttftMs, text } = await streamed(
    url,
    '/v1/responses',
    {
      model,
      input: message(chain, step),
      max_output_tokens: 32,
      temperature: 0,
      ...(previous ? { previous_response_id: previous } : {}),
    },
    /"type":"response\.output_text\.delta"/,
  );
  return { id: /"id":"(resp_[0-9a-f]+)"/.exec(text)?.[1] ?? '', ttftMs };
}

/** The same turn without state: the whole history sent again (the stateless reference). */
async function chatTurn(
  url: string,
  model: string,
  chain: number,
  step: number,
  history: Array<{ role: string; content: string }>,
): Promise<number> {
  history.push({ role: 'user', content: message(chain, step) });
  const { ttftMs, text } = await streamed(
    url,
    '/v1/chat/completions',
    { model, messages: history, max_tokens: 32, temperature: 0 },
    // The first chunk carries the role and empty content before any token.
    /"content":"[^"]/,
  );
  const answer = [...text.matchAll(/^data: (\{.*\})$/gm)]
    .map((match) => {
      const chunk = JSON.parse(match[1] ?? '{}') as {
        choices?: Array<{ delta?: { content?: string } }>;
      };
      return chunk.choices?.[0]?.delta?.content ?? '';
    })
    .join('');
  history.push({ role: 'assistant', content: answer });
  return ttftMs;
}

/** Chains on llmchat (stored and stateless) and, given its url, on llama-server (stateless). */
async function chainTtft(url: string, reference: string | undefined): Promise<void> {
  const model = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
  const name = model.data[0]?.id ?? '';
  const ttft = {
    responses: [[], []] as number[][],
    chat: [[], []] as number[][],
    llama: [[], []] as number[][],
  };
  // Warm: the first request after a load pays one-time costs that are no turn's.
  await responsesTurn(url, name, -1, 0, '');
  await chatTurn(url, name, -1, 0, []);
  if (reference) await chatTurn(reference, name, -1, 0, []);
  const previous: string[] = Array.from({ length: chains }, () => '');
  const newHistories = () =>
    Array.from({ length: chains }, () => [] as Array<{ role: string; content: string }>);
  const histories = newHistories();
  const referenceHistories = newHistories();
  // Chains advance together, one turn of each in turn, so drift weighs on every turn alike.
  for (let step = 0; step < turns; step++) {
    const slot = step === 0 ? 0 : step === turns - 1 ? 1 : -1;
    for (let chain = 0; chain < chains; chain++) {
      const turn = await responsesTurn(url, name, chain, step, previous[chain] ?? '');
      previous[chain] = turn.id;
      const chatMs = await chatTurn(url, name, chains + chain, step, histories[chain] ?? []);
      const llamaMs = reference
        ? await chatTurn(reference, name, chain, step, referenceHistories[chain] ?? [])
        : Number.NaN;
      if (slot >= 0) {
        ttft.responses[slot]?.push(turn.ttftMs);
        ttft.chat[slot]?.push(chatMs);
        ttft.llama[slot]?.push(llamaMs);
      }
    }
  }
  const line = (label: string, [first = [], last = []]: number[][]) =>
    `  ${label}: turn 1 ${median(first).toFixed(1)} ms, turn ${turns} ${median(last).toFixed(1)} ms (${(median(last) / median(first)).toFixed(2)}×)`;
  console.log(
    `chains of ${turns} turns, 32 output tokens each, ${chains} of each kind interleaved (TTFT medians)`,
  );
  console.log(line('previous_response_id (stored)         ', ttft.responses));
  console.log(line('chat/completions, history resent     ', ttft.chat));
  if (reference) console.log(line("llama-server's chat, history resent  ", ttft.llama));
  console.log("  target: the stored chain's turn 10 ≤ 1.2× its turn 1");
}

/**
 * Sampled chains (temperature 1.2, not streamed): how often a turn evaluates part of the
 * earlier answer again, because its text tokenises to other tokens than the model generated
 * (prompt-realign.ts matches them). Every turn's new text is the same length, so a turn that
 * writes more tokens to the cache than the chain's least did re-evaluated that many.
 */
async function sampledChains(url: string, model: string): Promise<void> {
  let turnsSeen = 0;
  let turnsRepeating = 0;
  let extraTokens = 0;
  for (let chain = 0; chain < chains * 4; chain++) {
    let previous = '';
    const written: number[] = [];
    for (let step = 0; step < turns; step++) {
      const response = await fetch(`${url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          input: message(100 + chain, step),
          max_output_tokens: 32,
          temperature: 1.2,
          ...(previous ? { previous_response_id: previous } : {}),
        }),
      });
      const body = (await response.json()) as {
        id: string;
        usage: { input_tokens_details: { cache_write_tokens?: number } };
      };
      previous = body.id;
      if (step > 0) written.push(body.usage.input_tokens_details.cache_write_tokens ?? 0);
    }
    const least = Math.min(...written);
    turnsSeen += written.length;
    turnsRepeating += written.filter((count) => count > least).length;
    extraTokens += written.reduce((sum, count) => sum + count - least, 0);
  }
  console.log(
    `sampled chains (temperature 1.2): turns re-evaluating part of the earlier answer ${turnsRepeating}/${turnsSeen}, ${extraTokens} tokens in all`,
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
  // A sequence per chain, so chains do not evict one another's cache.
  env: { LLMCHAT_MODEL: values.model, LLMCHAT_THREADS: '2', LLMCHAT_PARALLEL: String(chains * 2) },
  startTimeoutMs: 120_000,
});
// --llama-server: llama.cpp's own server beside it, as the reference (built once, minutes).
const reference = values['llama-server']
  ? await startLlamaServer(await llamaServerBinary((line) => console.log(line)), {
      model: values.model,
      threads: 2,
      batchThreads: 2,
      parallel: chains,
      contextPerSequence: 4096,
    })
  : undefined;
try {
  await server.waitForLog((line) => line.msg === 'model loaded', 120_000);
  await server.waitForLog((line) => String(line.msg).startsWith('store open'), 60_000);
  await chainTtft(server.url, reference?.url);
  const listed = (await (await fetch(`${server.url}/v1/models`)).json()) as {
    data: Array<{ id: string }>;
  };
  await sampledChains(server.url, listed.data[0]?.id ?? '');
} finally {
  await server.stop();
  reference?.child.kill();
}

// --writes 0: the chains only.
if (writes > 0) {
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
}
