/**
 * llmchat at fixed thread counts against its default policy (auto), every
 * setting running at once and measured back to back in each round; prints
 * medians and how the default compares with the best fixed setting.
 *
 *   pnpm --filter llmchat bench:threads [--rounds 5] [--models stories260K,synth-30M-q8_0,synth-100M-q8_0]
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnService } from '@hrserve/test-support/spawn';
import { decodeRate, median } from './stats.js';
import { aggregate, type BenchServer, chat, promptOf } from './workload.js';

// Runs bundled as dist/bench-threads.js: the package root is one level up.
const PACKAGE_ROOT = new URL('../', import.meta.url);
const MODELS_DIR = fileURLToPath(new URL('../../../shared/models/', PACKAGE_ROOT));

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    models: { type: 'string', default: 'stories260K,synth-30M-q8_0,synth-100M-q8_0' },
  },
});
const rounds = Number(values.rounds);
const cores = availableParallelism();

/** Every fixed count from 1 to the cores, and the default. */
const SETTINGS: Array<{ name: string; env: Record<string, string> }> = [
  ...Array.from({ length: cores }, (_, index) => ({
    name: `fixed ${index + 1}`,
    env: { LLMCHAT_THREADS: String(index + 1), LLMCHAT_THREAD_POLICY: 'fixed' },
  })),
  { name: 'default (auto)', env: {} },
];

type Figures = Record<'decode' | 'aggregate8' | 'ttft512', number>;

async function measure(server: BenchServer): Promise<Figures> {
  const single = await chat(server, [{ role: 'user', content: promptOf(32) }], 256);
  const long = await chat(server, [{ role: 'user', content: promptOf(512) }], 4);
  return {
    decode: decodeRate(single),
    ttft512: long.ttftMs,
    aggregate8: await aggregate(server, 8),
  };
}

for (const modelName of values.models.split(',')) {
  const model = `${MODELS_DIR}${modelName}.gguf`;
  const running = await Promise.all(
    SETTINGS.map(async (setting) => {
      const service = await spawnService({
        cwd: fileURLToPath(PACKAGE_ROOT),
        env: {
          LLMCHAT_MODEL: model,
          LLMCHAT_PARALLEL: '8',
          LLMCHAT_CONTEXT_SIZE: '1024',
          OTEL_SDK_DISABLED: 'true',
          ...setting.env,
        },
      });
      await service.waitForLog((line) => line.msg === 'model loaded', 120_000);
      return { setting, service };
    }),
  );
  const servers = running.map(({ setting, service }) => ({
    name: setting.name,
    url: service.url,
    pid: service.child.pid ?? 0,
    model: modelName,
  }));
  const samples = new Map<string, Figures[]>(servers.map((server) => [server.name, []]));
  for (let round = 0; round <= rounds; round++) {
    // A different order each round; round 0 warms every server up.
    const order = servers.map((_, index) => servers[(index + round) % servers.length]);
    for (const server of order) {
      if (!server) continue;
      const figures = await measure(server);
      if (round > 0) samples.get(server.name)?.push(figures);
    }
  }
  await Promise.all(running.map(({ service }) => service.stop()));

  const medians = new Map(
    servers.map((server) => {
      const list = samples.get(server.name) ?? [];
      const of = (key: keyof Figures) => median(list.map((figures) => figures[key]));
      return [
        server.name,
        { decode: of('decode'), aggregate8: of('aggregate8'), ttft512: of('ttft512') },
      ];
    }),
  );
  console.log(
    `\n## ${modelName}: thread settings, ${cores} cores, ${rounds} rounds (+1 warm-up), medians\n`,
  );
  console.log(
    '| setting | single-stream decode (tok/s) | aggregate, 8 streams (tok/s) | TTFT, ~512-token prompt (ms) |',
  );
  console.log('|---|---:|---:|---:|');
  for (const [name, figures] of medians) {
    console.log(
      `| ${name} | ${figures.decode.toFixed(1)} | ${figures.aggregate8.toFixed(1)} | ${figures.ttft512.toFixed(0)} |`,
    );
  }
  const fixed = [...medians]
    .filter(([name]) => name.startsWith('fixed'))
    .map(([, figures]) => figures);
  const auto = medians.get('default (auto)');
  if (auto) {
    const bestDecode = Math.max(...fixed.map((figures) => figures.decode));
    const bestAggregate = Math.max(...fixed.map((figures) => figures.aggregate8));
    const bestTtft = Math.min(...fixed.map((figures) => figures.ttft512));
    console.log(
      `| default vs best fixed | ${(auto.decode / bestDecode).toFixed(2)}× | ${(auto.aggregate8 / bestAggregate).toFixed(2)}× | ${(bestTtft / auto.ttft512).toFixed(2)}× |`,
    );
  }
}
