/**
 * A 3-question decision beside the same three questions as separate 1-token chat
 * completions on the same input (sent one after another, and all at once), interleaved
 * round by round, each round on a fresh input (nothing cached from the round before):
 * latency and the tokens each way evaluates.
 *
 *   pnpm --filter llmchat bench:decisions [--model <gguf>] [--rounds 7] [--input-words 300]
 *
 * Tokens evaluated: a decision's input_tokens − cached_tokens (its answers' tokens
 * included); a chat completion's prompt_tokens − cached_tokens.
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
    'input-words': { type: 'string', default: '300' },
  },
});
const rounds = Number(values.rounds);
const inputWords = Number(values['input-words']);

const WORDS =
  'the customer wrote that the order arrived late and the box was damaged so she asked for a refund or a replacement before the weekend'.split(
    ' ',
  );
/** A ticket of about `inputWords` words, different in every round (its first words). */
const inputOf = (round: number, kind: string) =>
  `Ticket ${kind}-${round}: ${Array.from({ length: inputWords }, (_, index) => WORDS[(index * 7 + round) % WORDS.length]).join(' ')}.`;

const QUESTIONS = [
  { type: 'predicate', instructions: 'The customer asks for a refund.' },
  {
    type: 'choice',
    instructions: 'What is the ticket about?',
    choices: [{ value: 'delivery' }, { value: 'damaged goods' }, { value: 'billing' }],
  },
  {
    type: 'score',
    instructions: 'How urgent is the ticket?',
    levels: [{ label: 'low' }, { label: 'medium' }, { label: 'high' }],
  },
];
/** The same questions as chat prompts answered by one token. */
const CHAT_QUESTIONS = [
  'Statement: The customer asks for a refund.\n\nIs the statement true? Answer yes or no.',
  'What is the ticket about?\n\nAnswer with exactly one of these options:\n- delivery\n- damaged goods\n- billing',
  'How urgent is the ticket?\n\nAnswer with exactly one of these levels, from lowest to highest:\n- low\n- medium\n- high',
];

async function post<T>(url: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

interface Measured {
  ms: number;
  evaluated: number;
}

async function decision(url: string, model: string, input: string): Promise<Measured> {
  const startedAt = performance.now();
  const body = await post<{
    usage: { input_tokens: number; input_tokens_details: { cached_tokens: number } };
  }>(url, '/v1/decisions', { model, input, questions: QUESTIONS });
  return {
    ms: performance.now() - startedAt,
    evaluated: body.usage.input_tokens - body.usage.input_tokens_details.cached_tokens,
  };
}

async function chatQuestion(url: string, model: string, input: string, question: string) {
  const body = await post<{
    usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
  }>(url, '/v1/chat/completions', {
    model,
    messages: [
      { role: 'user', content: input },
      { role: 'user', content: question },
    ],
    max_tokens: 1,
    temperature: 0,
  });
  return body.usage.prompt_tokens - (body.usage.prompt_tokens_details?.cached_tokens ?? 0);
}

async function chats(
  url: string,
  model: string,
  input: string,
  concurrent: boolean,
): Promise<Measured> {
  const startedAt = performance.now();
  const evaluated = concurrent
    ? await Promise.all(CHAT_QUESTIONS.map((question) => chatQuestion(url, model, input, question)))
    : await CHAT_QUESTIONS.reduce(
        async (done, question) => [
          ...(await done),
          await chatQuestion(url, model, input, question),
        ],
        Promise.resolve([] as number[]),
      );
  return {
    ms: performance.now() - startedAt,
    evaluated: evaluated.reduce((sum, count) => sum + count, 0),
  };
}

const { server, model } = await startBenchLlmchat(values.model, {
  LLMCHAT_THREADS: '2',
  LLMCHAT_PARALLEL: '3',
});
try {
  // Warm-up: one of each, on inputs no round uses.
  await decision(server.url, model, inputOf(-1, 'd'));
  await chats(server.url, model, inputOf(-1, 's'), false);
  const ways = {
    'decision (3 questions)': [] as Measured[],
    '3 chat completions, one after another': [] as Measured[],
    '3 chat completions, at once': [] as Measured[],
  };
  for (let round = 0; round < rounds; round++) {
    ways['decision (3 questions)'].push(await decision(server.url, model, inputOf(round, 'd')));
    ways['3 chat completions, one after another'].push(
      await chats(server.url, model, inputOf(round, 's'), false),
    );
    ways['3 chat completions, at once'].push(
      await chats(server.url, model, inputOf(round, 'c'), true),
    );
  }
  const reference = median(ways['decision (3 questions)'].map((measured) => measured.ms));
  console.log(`model ${model}, input ≈ ${inputWords} words, ${rounds} rounds (medians)`);
  console.log('| way | latency ms | × decision | tokens evaluated |');
  console.log('|---|---:|---:|---:|');
  for (const [way, measured] of Object.entries(ways)) {
    const ms = median(measured.map((entry) => entry.ms));
    const evaluated = median(measured.map((entry) => entry.evaluated));
    console.log(`| ${way} | ${ms.toFixed(0)} | ${(ms / reference).toFixed(2)} | ${evaluated} |`);
  }
} finally {
  await server.stop();
}
