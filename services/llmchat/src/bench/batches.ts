/**
 * Batches against the same requests sent by a client, and what a running batch does to
 * interactive requests, in one run, interleaved round by round:
 *
 * 1. Throughput: a batch of `--lines` chat completions (upload, create, poll until
 *    completed) beside the same requests sent by a client keeping every sequence busy
 *    (`LLMCHAT_PARALLEL` in flight): lines/s.
 * 2. Interactive TTFT (p50, p95) of short streamed chats sent one after another: on an idle
 *    server, while a batch runs, and while the same load runs as interactive requests.
 *
 *   pnpm --filter llmchat bench:batches [--model <gguf>] [--rounds 3] [--lines 200] [--probes 10]
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sharedModel, startBenchLlmchat } from './processes.js';
import { streamChat } from './sse-client.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: sharedModel('synth-30M-q8_0.gguf') },
    rounds: { type: 'string', default: '3' },
    lines: { type: 'string', default: '200' },
    probes: { type: 'string', default: '10' },
    parallel: { type: 'string', default: '4' },
    'max-tokens': { type: 'string', default: '32' },
  },
});
const rounds = Number(values.rounds);
const lineCount = Number(values.lines);
const probes = Number(values.probes);
const parallel = Number(values.parallel);
const maxTokens = Number(values['max-tokens']);

const WORDS = 'once upon a time in a small village by the sea there lived a girl'.split(' ');
const promptOf = (tag: string, index: number, words = 60) =>
  `${tag} ${index}: ${Array.from({ length: words }, (_, i) => WORDS[(i * 7 + index) % WORDS.length]).join(' ')}`;

const bodyOf = (model: string, prompt: string, tokens = maxTokens) => ({
  model,
  messages: [{ role: 'user', content: prompt }],
  max_tokens: tokens,
  temperature: 1,
  ignore_eos: true,
});

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Uploads `count` lines and creates their batch; resolves with its id. */
async function createBatch(url: string, model: string, tag: string, count: number) {
  const jsonl = Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      custom_id: `${tag}-${index}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: bodyOf(model, promptOf(tag, index)),
    }),
  ).join('\n');
  const form = new FormData();
  form.set('purpose', 'batch');
  form.set('file', new Blob([jsonl]), `${tag}.jsonl`);
  const file = await json<{ id: string }>(
    await fetch(`${url}/v1/files`, { method: 'POST', body: form }),
  );
  const batch = await json<{ id: string }>(
    await fetch(`${url}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    }),
  );
  return batch.id;
}

interface BatchState {
  status: string;
  request_counts: { completed: number; failed: number; total: number };
}

async function batchState(url: string, id: string): Promise<BatchState> {
  return json<BatchState>(await fetch(`${url}/v1/batches/${id}`));
}

async function waitForBatch(url: string, id: string, done: (state: BatchState) => boolean) {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const state = await batchState(url, id);
    if (done(state)) return state;
    if (Date.now() > deadline) throw new Error(`batch ${id} stuck: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The same requests as a batch's, sent by `parallel` clients each waiting for its answer. */
async function sendAtConcurrency(url: string, model: string, tag: string, count: number) {
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < count) {
      const index = next++;
      await json(
        await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(bodyOf(model, promptOf(tag, index))),
        }),
      );
    }
  };
  const done = Promise.all(Array.from({ length: parallel }, worker));
  return { done, stop: () => (stop = true) };
}

/** `probes` short streamed chats, one after another: their TTFTs. */
async function probe(url: string, model: string, tag: string): Promise<number[]> {
  const ttfts: number[] = [];
  for (let index = 0; index < probes; index++) {
    const timing = await streamChat(url, bodyOf(model, promptOf(tag, index, 40), 8));
    ttfts.push(timing.ttftMs);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return ttfts;
}

const { server, model } = await startBenchLlmchat(values.model, {
  LLMCHAT_THREADS: '2',
  LLMCHAT_PARALLEL: String(parallel),
  LLMCHAT_QUEUE_SIZE: '256',
  DATA_DIR: await mkdtemp(join(tmpdir(), 'bench-batches-')),
});
const url = server.url;
try {
  // Warm-up: the model's first batches, and one small batch end to end.
  await probe(url, model, 'warm');
  await waitForBatch(
    url,
    await createBatch(url, model, 'warm', 4),
    (s) => s.status === 'completed',
  );

  const batchRates: number[] = [];
  const clientRates: number[] = [];
  const ttft = { idle: [] as number[], batch: [] as number[], interactive: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    // 1. Throughput, alternating which way goes first.
    const ways = [
      async () => {
        const startedAt = performance.now();
        const id = await createBatch(url, model, `b${round}`, lineCount);
        const state = await waitForBatch(url, id, (s) => s.status === 'completed');
        if (state.request_counts.completed !== lineCount) throw new Error(JSON.stringify(state));
        batchRates.push(lineCount / ((performance.now() - startedAt) / 1000));
      },
      async () => {
        const startedAt = performance.now();
        await (await sendAtConcurrency(url, model, `c${round}`, lineCount)).done;
        clientRates.push(lineCount / ((performance.now() - startedAt) / 1000));
      },
    ];
    for (const way of round % 2 ? ways.reverse() : ways) await way();

    // 2. Interactive TTFT: idle, beside a batch, beside the same load sent interactively.
    ttft.idle.push(...(await probe(url, model, `idle${round}`)));
    const id = await createBatch(url, model, `p${round}`, lineCount);
    await waitForBatch(url, id, (s) => s.request_counts.completed >= parallel);
    ttft.batch.push(...(await probe(url, model, `under-batch${round}`)));
    await fetch(`${url}/v1/batches/${id}/cancel`, { method: 'POST' });
    await waitForBatch(url, id, (s) => s.status === 'cancelled');
    const load = await sendAtConcurrency(url, model, `load${round}`, lineCount);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    ttft.interactive.push(...(await probe(url, model, `under-load${round}`)));
    load.stop();
    await load.done;
    console.error(`round ${round + 1}/${rounds} done`);
  }

  const batchRate = median(batchRates);
  console.log(
    `model ${model}, LLMCHAT_PARALLEL=${parallel}, ${lineCount} lines of ~60 words and ${maxTokens} tokens, ${rounds} rounds (medians)`,
  );
  console.log('| way | lines/s | × batch |');
  console.log('|---|---:|---:|');
  console.log(`| batch of ${lineCount} lines | ${batchRate.toFixed(2)} | 1.00 |`);
  const clientRate = median(clientRates);
  console.log(
    `| the same requests, ${parallel} in flight | ${clientRate.toFixed(2)} | ${(clientRate / batchRate).toFixed(2)} |`,
  );
  console.log('');
  console.log(
    `interactive TTFT, ${probes * rounds} streamed chats of 8 tokens each, one at a time`,
  );
  console.log('| beside | p50 ms | p95 ms |');
  console.log('|---|---:|---:|');
  for (const [beside, samples] of [
    ['nothing (idle server)', ttft.idle],
    ['a running batch', ttft.batch],
    [`the same load as interactive requests (${parallel} in flight)`, ttft.interactive],
  ] as const) {
    console.log(
      `| ${beside} | ${percentile(samples, 50).toFixed(0)} | ${percentile(samples, 95).toFixed(0)} |`,
    );
  }
} finally {
  await server.stop();
}
