/**
 * embed over HTTP against node-llama-cpp's embedding contexts called
 * directly: same model, contexts and threads, interleaved in one run; prints
 * inputs/s (medians) at batch sizes 1 and 32. Then fairness: a one-input
 * request's latency alone and while a 2,000-input request runs.
 *
 *   pnpm --filter embed bench [--model <gguf>] [--contexts <n>] [--rounds 5]
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnService } from '@hrserve/test-support/spawn';
import { median } from '@hrserve/test-support/stats';
import { getLlama, type LlamaEmbeddingContext } from 'node-llama-cpp';

// Runs bundled as dist/bench.js: the package root is one level up, the shared models beside the checkout.
const PACKAGE_ROOT = new URL('../', import.meta.url);

const { values } = parseArgs({
  options: {
    model: {
      type: 'string',
      default: fileURLToPath(new URL('../../../shared/models/synth-30M-q8_0.gguf', PACKAGE_ROOT)),
    },
    contexts: { type: 'string', default: String(Math.min(4, availableParallelism())) },
    rounds: { type: 'string', default: '5' },
  },
});
const contexts = Number(values.contexts);
const rounds = Number(values.rounds);
const CONTEXT_SIZE = 512;
const BATCHES = [1, 32];
/** Inputs per measurement at each batch size. */
const INPUTS = 64;

let inputNumber = 0;
const text = () =>
  `Input ${++inputNumber}: once upon a time, in a small village by the sea, a girl told stories to the fish every morning.`;

// node-llama-cpp direct: the same contexts, inputs handed to the free ones.
const llama = await getLlama({
  gpu: false,
  build: 'never',
  skipDownload: true,
  maxThreads: contexts,
});
const model = await llama.loadModel({ modelPath: values.model });
const pool: LlamaEmbeddingContext[] = [];
for (let index = 0; index < contexts; index++) {
  pool.push(
    await model.createEmbeddingContext({
      contextSize: CONTEXT_SIZE,
      batchSize: CONTEXT_SIZE,
      threads: 1,
    }),
  );
}
async function directBatch(inputs: string[]): Promise<void> {
  const queue = [...inputs];
  await Promise.all(
    pool.map(async (context) => {
      for (let input = queue.shift(); input !== undefined; input = queue.shift()) {
        await context.getEmbeddingFor(input);
      }
    }),
  );
}

const server = await spawnService({
  cwd: fileURLToPath(PACKAGE_ROOT),
  env: {
    EMBED_MODEL: values.model,
    EMBED_CONTEXTS: String(contexts),
    EMBED_THREADS: '1',
    EMBED_CONTEXT_SIZE: String(CONTEXT_SIZE),
    OTEL_SDK_DISABLED: 'true',
  },
});
await server.waitForLog((line) => line.msg === 'model loaded', 120_000);
const modelId =
  ((await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> })
    .data[0]?.id ?? '';
async function httpBatch(inputs: string[]): Promise<void> {
  const response = await fetch(`${server.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelId, input: inputs, encoding_format: 'base64' }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** Inputs per second: INPUTS inputs sent as requests of `batch` inputs, one request at a time. */
async function rate(send: (inputs: string[]) => Promise<void>, batch: number): Promise<number> {
  const startedAt = performance.now();
  for (let sent = 0; sent < INPUTS; sent += batch) {
    await send(Array.from({ length: batch }, text));
  }
  return (INPUTS * 1000) / (performance.now() - startedAt);
}

const sides = { direct: directBatch, embed: httpBatch };
const samples: Record<string, number[]> = {};
for (let round = 0; round <= rounds; round++) {
  for (const batch of BATCHES) {
    const order = round % 2 === 0 ? (['direct', 'embed'] as const) : (['embed', 'direct'] as const);
    for (const side of order) {
      const value = await rate(sides[side], batch);
      const key = `${side}-${batch}`;
      if (round > 0) samples[key] = [...(samples[key] ?? []), value];
    }
  }
}
/** One one-input request's latency, ms. */
async function oneInputMs(): Promise<number> {
  const startedAt = performance.now();
  await httpBatch([text()]);
  return performance.now() - startedAt;
}
const fairness: Record<'alone' | 'beside' | 'large', number[]> = {
  alone: [],
  beside: [],
  large: [],
};
for (let round = 0; round < Math.max(1, Math.ceil(rounds / 2)); round++) {
  fairness.alone.push(await oneInputMs());
  const startedAt = performance.now();
  const large = httpBatch(Array.from({ length: 2000 }, text));
  await new Promise((resolve) => setTimeout(resolve, 200));
  fairness.beside.push(await oneInputMs());
  await large;
  fairness.large.push(performance.now() - startedAt);
}
await server.stop();

console.log(
  `\nmodel ${values.model}\n${contexts} contexts, 1 thread each, ${rounds} rounds (+1 warm-up), ${INPUTS} inputs per figure\n`,
);
console.log('| batch size | direct (inputs/s) | embed over HTTP (inputs/s) | ratio |');
console.log('|---:|---:|---:|---:|');
for (const batch of BATCHES) {
  const direct = median(samples[`direct-${batch}`] ?? []);
  const embed = median(samples[`embed-${batch}`] ?? []);
  console.log(
    `| ${batch} | ${direct.toFixed(1)} | ${embed.toFixed(1)} | ${(embed / direct).toFixed(2)}× |`,
  );
}
console.log(
  `\n| one-input request | alone (ms) | beside a 2,000-input request (ms) | the 2,000-input request (ms) |\n|---|---:|---:|---:|\n| median | ${median(fairness.alone).toFixed(1)} | ${median(fairness.beside).toFixed(1)} | ${median(fairness.large).toFixed(0)} |`,
);
process.exit(0);
