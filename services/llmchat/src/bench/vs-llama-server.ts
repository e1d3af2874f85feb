/**
 * llmchat against llama.cpp's llama-server: the same OpenAI streaming workload,
 * same GGUF, same thread count, both servers up at once and measured back to
 * back in each round; prints medians and ratios.
 *
 *   pnpm bench [--threads 1] [--batch-threads <cores>] [--rounds 5] [--models synth-30M-q8_0,stories260K]
 *
 * Both thread counts are llama.cpp's: `--threads` for one-token batches (llama-server -t,
 * LLMCHAT_THREADS), `--batch-threads` for larger ones (llama-server -tb, LLMCHAT_BATCH_THREADS).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnService } from '@hrserve/test-support/spawn';
import { llamaServerBinary } from './llama-server-binary.js';
import { peakRssMiB, startLlamaServer } from './processes.js';
import { streamChat } from './sse-client.js';
import { decodeRate, median } from './stats.js';

// Runs bundled as dist/bench-llama-server.js: the package root is one level up.
const PACKAGE_ROOT = new URL('../', import.meta.url);
const MODELS_DIR = fileURLToPath(new URL('../../../shared/models/', PACKAGE_ROOT));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    'batch-threads': { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '5' },
    models: { type: 'string', default: 'synth-30M-q8_0,stories260K' },
  },
});
const threads = Number(values.threads);
const batchThreads = Number(values['batch-threads']);
const rounds = Number(values.rounds);
const PARALLEL = 16;
const CONTEXT_PER_SEQUENCE = 2048;

let requestNumber = 0;
/** Words of varying text so prompts are ~`tokens` long and unique from the start (no cache reuse between requests). */
function promptOf(tokens: number): string {
  requestNumber += 1;
  const words = [
    'the',
    'little',
    'cat',
    'ran',
    'to',
    'a',
    'big',
    'tree',
    'and',
    'saw',
    'bird',
    'sing',
  ];
  return `${requestNumber} ${Array.from({ length: Math.max(1, tokens - 12) }, (_, i) => words[(i * 7 + requestNumber) % words.length]).join(' ')}.`;
}

interface Server {
  name: string;
  url: string;
  pid: number;
  model: string;
}

const chat = (
  server: Server,
  messages: Array<{ role: string; content: string }>,
  maxTokens: number,
) =>
  streamChat(server.url, {
    model: server.model,
    messages,
    max_tokens: maxTokens,
    ignore_eos: true,
    temperature: 1,
    seed: requestNumber,
  });

async function aggregate(server: Server, streams: number): Promise<number> {
  const startedAt = performance.now();
  const results = await Promise.all(
    Array.from({ length: streams }, () =>
      chat(server, [{ role: 'user', content: promptOf(32) }], 128),
    ),
  );
  return (
    (results.reduce((sum, timing) => sum + timing.completionTokens, 0) * 1000) /
    (performance.now() - startedAt)
  );
}

/** A long system prompt, the same twice; the second request's TTFT should be a fraction of the first's. */
async function prefixReuse(server: Server): Promise<{ first: number; second: number }> {
  const system = `Rules of the story world, number ${++requestNumber}: ${promptOf(480)}`;
  const first = await chat(
    server,
    [
      { role: 'system', content: system },
      { role: 'user', content: 'Tell me about the cat.' },
    ],
    4,
  );
  const second = await chat(
    server,
    [
      { role: 'system', content: system },
      { role: 'user', content: 'Tell me about the dog.' },
    ],
    4,
  );
  return { first: first.ttftMs, second: second.ttftMs };
}

type Figures = Record<string, number>;

async function measureRound(server: Server): Promise<Figures> {
  const single = await chat(server, [{ role: 'user', content: promptOf(32) }], 256);
  const short = await chat(server, [{ role: 'user', content: promptOf(32) }], 4);
  const long = await chat(server, [{ role: 'user', content: promptOf(512) }], 4);
  const reuse = await prefixReuse(server);
  return {
    decode: decodeRate(single),
    ttft32: short.ttftMs,
    ttft512: long.ttftMs,
    aggregate8: await aggregate(server, 8),
    aggregate16: await aggregate(server, 16),
    reuseFirst: reuse.first,
    reuseSecond: reuse.second,
  };
}

const binary = await llamaServerBinary((line) => console.log(line));
for (const modelName of values.models.split(',')) {
  const model = `${MODELS_DIR}${modelName}.gguf`;
  const reference = await startLlamaServer(binary, {
    model,
    threads,
    batchThreads,
    parallel: PARALLEL,
    contextPerSequence: CONTEXT_PER_SEQUENCE,
  });
  const llmchat = await spawnService({
    cwd: fileURLToPath(PACKAGE_ROOT),
    env: {
      LLMCHAT_MODEL: model,
      LLMCHAT_THREADS: String(threads),
      LLMCHAT_BATCH_THREADS: String(batchThreads),
      LLMCHAT_PARALLEL: String(PARALLEL),
      LLMCHAT_CONTEXT_SIZE: String(CONTEXT_PER_SEQUENCE),
      LLMCHAT_QUEUE_SIZE: '64',
      OTEL_SDK_DISABLED: 'true',
      // Same OpenMP settings for both servers (llama-server inherits this environment).
      ...(process.env.OMP_WAIT_POLICY ? { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY } : {}),
    },
  });
  await llmchat.waitForLog((line) => line.msg === 'model loaded', 120_000);
  const servers: Server[] = [
    { name: 'llama-server', url: reference.url, pid: reference.child.pid ?? 0, model: modelName },
    { name: 'llmchat', url: llmchat.url, pid: llmchat.child.pid ?? 0, model: modelName },
  ];
  const samples: Record<string, Figures[]> = { 'llama-server': [], llmchat: [] };
  for (let round = 0; round <= rounds; round++) {
    // Back to back, alternating who goes first; round 0 warms both up.
    for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
      const figures = await measureRound(server);
      if (round > 0) samples[server.name]?.push(figures);
    }
  }
  const rss = Object.fromEntries(servers.map((server) => [server.name, peakRssMiB(server.pid)]));
  reference.child.kill('SIGTERM');
  await llmchat.stop();

  const rows: Array<[string, string, boolean]> = [
    ['decode', 'single-stream decode (tok/s)', true],
    ['ttft32', 'TTFT, ~32-token prompt (ms)', false],
    ['ttft512', 'TTFT, ~512-token prompt (ms)', false],
    ['aggregate8', 'aggregate, 8 streams (tok/s)', true],
    ['aggregate16', 'aggregate, 16 streams (tok/s)', true],
    ['reuseSecond', 'TTFT, repeated long prefix (ms)', false],
  ];
  console.log(
    `\n## ${modelName}, threads ${threads} (batches: ${batchThreads}), ${rounds} rounds (+1 warm-up), medians\n`,
  );
  console.log('| figure | llama-server | llmchat | llmchat vs llama-server |');
  console.log('|---|---:|---:|---:|');
  for (const [key, label, higherIsBetter] of rows) {
    const reference_ = median(
      (samples['llama-server'] ?? []).map((figures) => figures[key] ?? Number.NaN),
    );
    const ours = median((samples.llmchat ?? []).map((figures) => figures[key] ?? Number.NaN));
    const ratio = higherIsBetter ? ours / reference_ : reference_ / ours;
    console.log(
      `| ${label} | ${reference_.toFixed(1)} | ${ours.toFixed(1)} | ${ratio.toFixed(2)}× ${higherIsBetter ? '' : '(>1: llmchat faster)'} |`,
    );
  }
  for (const server of servers) {
    const list = samples[server.name] ?? [];
    const reuse = median(
      list.map((figures) => (figures.reuseSecond ?? 0) / (figures.reuseFirst ?? 1)),
    );
    console.log(`| ${server.name}: repeated-prefix TTFT / first TTFT | | | ${reuse.toFixed(2)} |`);
  }
  console.log(
    `| peak RSS (MiB) | ${rss['llama-server']?.toFixed(0)} | ${rss.llmchat?.toFixed(0)} | |`,
  );
}
