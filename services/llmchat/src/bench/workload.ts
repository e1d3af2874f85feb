import { streamChat } from './sse-client.js';

/*
 * The streaming workload every llmchat benchmark runs: unique prompts (no KV
 * reuse between requests unless asked), fixed lengths, ignore_eos so every
 * answer is full length.
 */

let requestNumber = 0;
const WORDS = [
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

/** Words of varying text so prompts are ~`tokens` long and unique from the start. */
export function promptOf(tokens: number): string {
  requestNumber += 1;
  return `${requestNumber} ${Array.from({ length: Math.max(1, tokens - 12) }, (_, i) => WORDS[(i * 7 + requestNumber) % WORDS.length]).join(' ')}.`;
}

export interface BenchServer {
  name: string;
  url: string;
  pid: number;
  model: string;
}

export function chat(
  server: BenchServer,
  messages: Array<{ role: string; content: string }>,
  maxTokens: number,
) {
  return streamChat(server.url, {
    model: server.model,
    messages,
    max_tokens: maxTokens,
    ignore_eos: true,
    temperature: 1,
    seed: requestNumber,
  });
}

/** Tokens per second over `streams` concurrent streams: total tokens over wall time. */
export async function aggregate(server: BenchServer, streams: number, maxTokens = 128) {
  const startedAt = performance.now();
  const results = await Promise.all(
    Array.from({ length: streams }, () =>
      chat(server, [{ role: 'user', content: promptOf(32) }], maxTokens),
    ),
  );
  return (
    (results.reduce((sum, timing) => sum + timing.completionTokens, 0) * 1000) /
    (performance.now() - startedAt)
  );
}
