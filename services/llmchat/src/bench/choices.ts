/**
 * n: 3 beside three separate requests for the same prompt sent at once, interleaved round by
 * round on fresh prompts: wall time to all three answers, and the prompt tokens evaluated
 * (n evaluates the prompt once and copies its KV state; separate requests evaluate it each).
 *
 *   pnpm --filter llmchat bench:choices [--model <gguf>] [--rounds 7] [--prompt-words 300] [--max-tokens 32]
 */

import { parseArgs } from 'node:util';
import { sharedModel, startBenchLlmchat } from './processes.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    model: {
      type: 'string',
      default: sharedModel('synth-100M-q8_0.gguf'),
    },
    rounds: { type: 'string', default: '7' },
    'prompt-words': { type: 'string', default: '300' },
    'max-tokens': { type: 'string', default: '32' },
  },
});
const rounds = Number(values.rounds);
const words = Number(values['prompt-words']);
const maxTokens = Number(values['max-tokens']);
const CHOICES = 3;

const WORDS =
  'once upon a time in a small village by the sea there lived a girl who loved stories'.split(' ');
const promptOf = (round: number, kind: string) =>
  `Story ${kind}-${round}: ${Array.from({ length: words }, (_, index) => WORDS[(index * 5 + round) % WORDS.length]).join(' ')}`;

interface Usage {
  prompt_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

async function chat(url: string, model: string, prompt: string, n: number): Promise<Usage> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content: prompt }],
      max_tokens: maxTokens,
      temperature: 1,
      ignore_eos: true,
      n,
    }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { usage: Usage }).usage;
}

const evaluated = (usage: Usage) =>
  usage.prompt_tokens - (usage.prompt_tokens_details?.cached_tokens ?? 0);

const { server, model } = await startBenchLlmchat(values.model, {
  LLMCHAT_THREADS: '2',
  LLMCHAT_PARALLEL: String(CHOICES),
});
try {
  await chat(server.url, model, promptOf(-1, 'n'), CHOICES);
  await Promise.all([0, 1, 2].map(() => chat(server.url, model, promptOf(-1, 's'), 1)));
  const ways = {
    [`n: ${CHOICES}`]: [] as number[][],
    [`${CHOICES} requests at once`]: [] as number[][],
  };
  for (let round = 0; round < rounds; round++) {
    let startedAt = performance.now();
    const usage = await chat(server.url, model, promptOf(round, 'n'), CHOICES);
    ways[`n: ${CHOICES}`]?.push([performance.now() - startedAt, evaluated(usage)]);
    startedAt = performance.now();
    const usages = await Promise.all(
      Array.from({ length: CHOICES }, () => chat(server.url, model, promptOf(round, 's'), 1)),
    );
    ways[`${CHOICES} requests at once`]?.push([
      performance.now() - startedAt,
      usages.reduce((sum, one) => sum + evaluated(one), 0),
    ]);
  }
  const reference = median((ways[`n: ${CHOICES}`] ?? []).map(([ms]) => ms ?? 0));
  console.log(
    `model ${model}, prompt ≈ ${words} words, ${maxTokens} tokens per choice, ${rounds} rounds (medians)`,
  );
  console.log('| way | wall ms | × n | prompt tokens evaluated |');
  console.log('|---|---:|---:|---:|');
  for (const [way, measured] of Object.entries(ways)) {
    const ms = median(measured.map(([value]) => value ?? 0));
    const tokens = median(measured.map(([, value]) => value ?? 0));
    console.log(`| ${way} | ${ms.toFixed(0)} | ${(ms / reference).toFixed(2)} | ${tokens} |`);
  }
} finally {
  await server.stop();
}
