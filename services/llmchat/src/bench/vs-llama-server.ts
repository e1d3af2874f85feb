/**
 * llmchat against llama.cpp's llama-server: the same OpenAI streaming workload,
 * same GGUF, same threads, both servers up at once and measured back to back
 * in each round; prints medians and ratios.
 *
 *   pnpm bench [--threads <cores>] [--llama-threads <threads>] [--rounds 5] [--models synth-30M-q8_0,stories260K,synth-100M-q8_0]
 *
 * `--threads` is the budget both get: LLMCHAT_THREADS (llmchat's default policy then
 * picks one thread or all per batch) and llama-server's -t and -tb. `--llama-threads`
 * gives llama-server another -t (e.g. 1, its best single-stream setting on small models).
 * `--baseline <dir>` adds a third server: llmchat built in another checkout's
 * services/llmchat (say, the commit before a change), run with its own defaults, for
 * before/after figures from the same run.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnService } from '@hrserve/test-support/spawn';
import { llamaServerBinary } from './llama-server-binary.js';
import { peakRssMiB, startLlamaServer } from './processes.js';
import { decodeRate, median } from './stats.js';
import { aggregate, chat, promptOf, type BenchServer as Server } from './workload.js';

// Runs bundled as dist/bench-llama-server.js: the package root is one level up.
const PACKAGE_ROOT = new URL('../', import.meta.url);
const MODELS_DIR = fileURLToPath(new URL('../../../shared/models/', PACKAGE_ROOT));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(availableParallelism()) },
    'llama-threads': { type: 'string' },
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    models: { type: 'string', default: 'synth-30M-q8_0,stories260K,synth-100M-q8_0' },
  },
});
/** LLMCHAT_THREADS, and llama-server's -tb. */
const budget = Number(values.threads);
/** llama-server's -t. */
const llamaThreads = Number(values['llama-threads'] ?? values.threads);
const rounds = Number(values.rounds);
const PARALLEL = 16;
const CONTEXT_PER_SEQUENCE = 2048;

/** A long system prompt, the same twice; the second request's TTFT should be a fraction of the first's. */
async function prefixReuse(server: Server): Promise<{ first: number; second: number }> {
  const system = `Rules of the story world: ${promptOf(480)}`;
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
    threads: llamaThreads,
    batchThreads: budget,
    parallel: PARALLEL,
    contextPerSequence: CONTEXT_PER_SEQUENCE,
  });
  const llmchat = await spawnService({
    cwd: fileURLToPath(PACKAGE_ROOT),
    env: {
      LLMCHAT_MODEL: model,
      LLMCHAT_THREADS: String(budget),
      LLMCHAT_PARALLEL: String(PARALLEL),
      LLMCHAT_CONTEXT_SIZE: String(CONTEXT_PER_SEQUENCE),
      LLMCHAT_QUEUE_SIZE: '64',
      OTEL_SDK_DISABLED: 'true',
      // Same OpenMP settings for both servers (llama-server inherits this environment).
      ...(process.env.OMP_WAIT_POLICY ? { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY } : {}),
    },
  });
  await llmchat.waitForLog((line) => line.msg === 'model loaded', 120_000);
  const baseline = values.baseline
    ? await spawnService({
        cwd: values.baseline,
        env: {
          LLMCHAT_MODEL: model,
          LLMCHAT_PARALLEL: String(PARALLEL),
          LLMCHAT_CONTEXT_SIZE: String(CONTEXT_PER_SEQUENCE),
          LLMCHAT_QUEUE_SIZE: '64',
          OTEL_SDK_DISABLED: 'true',
        },
      })
    : undefined;
  await baseline?.waitForLog((line) => line.msg === 'model loaded', 120_000);
  const servers: Server[] = [
    { name: 'llama-server', url: reference.url, pid: reference.child.pid ?? 0, model: modelName },
    { name: 'llmchat', url: llmchat.url, pid: llmchat.child.pid ?? 0, model: modelName },
    ...(baseline
      ? [{ name: 'baseline', url: baseline.url, pid: baseline.child.pid ?? 0, model: modelName }]
      : []),
  ];
  const samples: Record<string, Figures[]> = { 'llama-server': [], llmchat: [], baseline: [] };
  for (let round = 0; round <= rounds; round++) {
    // Back to back, a different order each round; round 0 warms them up.
    const order = servers.map((_, index) => servers[(index + round) % servers.length]);
    for (const server of order) {
      if (!server) continue;
      const figures = await measureRound(server);
      if (round > 0) samples[server.name]?.push(figures);
    }
  }
  const rss = Object.fromEntries(servers.map((server) => [server.name, peakRssMiB(server.pid)]));
  reference.child.kill('SIGTERM');
  await llmchat.stop();
  await baseline?.stop();

  const rows: Array<[string, string, boolean]> = [
    ['decode', 'single-stream decode (tok/s)', true],
    ['ttft32', 'TTFT, ~32-token prompt (ms)', false],
    ['ttft512', 'TTFT, ~512-token prompt (ms)', false],
    ['aggregate8', 'aggregate, 8 streams (tok/s)', true],
    ['aggregate16', 'aggregate, 16 streams (tok/s)', true],
    ['reuseSecond', 'TTFT, repeated long prefix (ms)', false],
  ];
  console.log(
    `\n## ${modelName}: llama-server -t ${llamaThreads} -tb ${budget}, llmchat LLMCHAT_THREADS=${budget} (default policy), ${rounds} rounds (+1 warm-up), medians\n`,
  );
  const withBaseline = baseline !== undefined;
  console.log(
    `| figure | llama-server | llmchat | llmchat vs llama-server |${withBaseline ? ' baseline | llmchat vs baseline |' : ''}`,
  );
  console.log(`|---|---:|---:|---:|${withBaseline ? '---:|---:|' : ''}`);
  const medianOf = (name: string, key: string) =>
    median((samples[name] ?? []).map((figures) => figures[key] ?? Number.NaN));
  for (const [key, label, higherIsBetter] of rows) {
    const reference_ = medianOf('llama-server', key);
    const ours = medianOf('llmchat', key);
    const versus = (other: number) =>
      `${(higherIsBetter ? ours / other : other / ours).toFixed(2)}×${higherIsBetter ? '' : ' (>1: llmchat faster)'}`;
    const before = medianOf('baseline', key);
    console.log(
      `| ${label} | ${reference_.toFixed(1)} | ${ours.toFixed(1)} | ${versus(reference_)} |${withBaseline ? ` ${before.toFixed(1)} | ${versus(before)} |` : ''}`,
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
    `| peak RSS (MiB) | ${rss['llama-server']?.toFixed(0)} | ${rss.llmchat?.toFixed(0)} | |${withBaseline ? ` ${rss.baseline?.toFixed(0)} | |` : ''}`,
  );
}
