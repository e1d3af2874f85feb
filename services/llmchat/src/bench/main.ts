/**
 * llmchat over HTTP against node-llama-cpp called directly, same model,
 * threads, sequences and sampling, interleaved in one run; prints medians.
 *
 *   pnpm --filter llmchat bench:direct [--model <gguf>] [--threads 1] [--rounds 5] [--tokens 256]
 */

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnService } from '@hrserve/test-support/spawn';
import { DirectEngine } from './direct.js';
import { type StreamTiming, streamChat } from './sse-client.js';
import { decodeRate, median } from './stats.js';

// Runs bundled as dist/bench.js: the package root is one level up, the shared models beside the checkout.
const PACKAGE_ROOT = new URL('../', import.meta.url);

const { values } = parseArgs({
  options: {
    model: {
      type: 'string',
      default: fileURLToPath(new URL('../../../shared/models/synth-30M-q8_0.gguf', PACKAGE_ROOT)),
    },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '256' },
    concurrency: { type: 'string', default: '8' },
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const maxTokens = Number(values.tokens);
const concurrency = Number(values.concurrency);
const contextSize = 1024;

/** A ~32-token user message, unique per request so no run reuses another's KV cache. */
let requestNumber = 0;
const prompt = () =>
  `Request ${++requestNumber}. Once upon a time, in a small village by the sea, there lived a girl who loved to tell stories to the fish.`;

interface Side {
  name: string;
  one(): Promise<StreamTiming>;
}

/** Tokens per second over many concurrent streams: total tokens over wall time. */
async function aggregate(side: Side): Promise<number> {
  const startedAt = performance.now();
  const streams = await Promise.all(Array.from({ length: concurrency }, () => side.one()));
  const tokens = streams.reduce((sum, timing) => sum + timing.completionTokens, 0);
  return (tokens * 1000) / (performance.now() - startedAt);
}

const direct = await DirectEngine.load(values.model, {
  threads,
  sequences: concurrency,
  contextSize,
});
const server = await spawnService({
  cwd: fileURLToPath(PACKAGE_ROOT),
  env: {
    LLMCHAT_MODEL: values.model,
    LLMCHAT_THREADS: String(threads),
    // node-llama-cpp direct has one thread count for everything: llmchat gets the same.
    LLMCHAT_THREAD_POLICY: 'fixed',
    LLMCHAT_PARALLEL: String(concurrency),
    LLMCHAT_CONTEXT_SIZE: String(contextSize),
    OTEL_SDK_DISABLED: 'true',
  },
});
await server.waitForLog((line) => line.msg === 'model loaded', 120_000);
const modelId =
  ((await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> })
    .data[0]?.id ?? '';

const sides: Side[] = [
  { name: 'direct', one: () => direct.generate(prompt(), maxTokens, requestNumber) },
  {
    name: 'llmchat',
    one: () =>
      streamChat(server.url, {
        model: modelId,
        messages: [{ role: 'user', content: prompt() }],
        max_tokens: maxTokens,
        ignore_eos: true,
        temperature: 1,
        seed: requestNumber,
      }),
  },
];

console.log(
  `model ${values.model}\nthreads ${threads}, ${concurrency} sequences, ${maxTokens} tokens per request, ${rounds} rounds (+1 warm-up), prompt ~${direct.chatTokens(prompt()).length} tokens\n`,
);
interface Sample {
  decode: number;
  ttft: number;
  aggregate: number;
}
const samples: Record<'direct' | 'llmchat', Sample[]> = { direct: [], llmchat: [] };
/*
 * Each round measures both sides back to back, in alternating order, so that
 * machine noise (large here: ±20% from one minute to the next) weighs on both
 * alike; ratios are taken per round, and their median reported.
 */
for (let round = 0; round <= rounds; round++) {
  const order = round % 2 === 0 ? sides : [...sides].reverse();
  const result: Record<string, Partial<Sample>> = { direct: {}, llmchat: {} };
  for (const side of order) {
    const single = await side.one();
    Object.assign(result[side.name] ?? {}, { decode: decodeRate(single), ttft: single.ttftMs });
  }
  for (const side of order)
    Object.assign(result[side.name] ?? {}, { aggregate: await aggregate(side) });
  if (round > 0) {
    samples.direct.push(result.direct as Sample);
    samples.llmchat.push(result.llmchat as Sample);
  }
}
await server.stop();
await direct.dispose();

const row = (label: string, key: keyof Sample, unit: string, higherIsBetter: boolean) => {
  const ratios = samples.direct.map((directSample, index) => {
    const llmchatValue = samples.llmchat[index]?.[key] ?? Number.NaN;
    return higherIsBetter ? llmchatValue / directSample[key] : directSample[key] / llmchatValue;
  });
  const directMedian = median(samples.direct.map((sample) => sample[key]));
  const llmchatMedian = median(samples.llmchat.map((sample) => sample[key]));
  return `| ${label.padEnd(28)} | ${directMedian.toFixed(1).padStart(9)} | ${llmchatMedian.toFixed(1).padStart(9)} | ${median(ratios).toFixed(3).padStart(6)} | ${unit}`;
};
console.log('| figure (median)              |    direct |   llmchat |  ratio |');
console.log('|------------------------------|-----------|-----------|--------|');
console.log(row('single-stream decode', 'decode', 'tokens/s; ratio llmchat/direct', true));
console.log(
  row('time to first token', 'ttft', 'ms; ratio direct/llmchat (>1: llmchat faster)', false),
);
console.log(
  row(`aggregate, ${concurrency} streams`, 'aggregate', 'tokens/s; ratio llmchat/direct', true),
);
console.log(
  '\nratio: median over rounds of the ratio within a round (both sides measured back to back)',
);
