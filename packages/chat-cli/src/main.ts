import { parseArgs } from 'node:util';
import { type ApiType, LlmClient, serviceUrl } from '@hrserve/client';
import { Conversation, ConversationStore, dataDir } from './conversation.js';
import { AnswerMeter } from './meter.js';
import { styles } from './render.js';
import { runRepl } from './repl.js';
import { ServerConversations } from './server-conversations.js';
import { ChatSession } from './session.js';

const USAGE = `usage: hrchat [--url <base URL>] [--model <name>] [--api auto|openai|ollama-chat|ollama-generate]
              [--api-key <key>] [--system <prompt>] [--temperature <0-2>] [--seed <n>] [--max-tokens <n>] [--verbose]
              [-p "prompt" | -p - | < file]
  Default URL: llmchat's, from the port table (HRSERVE_LLMCHAT_URL overrides).
  --api-key: for a service whose API_KEYS is set (default: HRSERVE_API_KEY from the environment).
  -p answers once and exits; "-p -", or input from a pipe, reads the prompt from stdin.
  --verbose adds a line per answer: tokens, tokens/s and the time to the first token.`;

/** A mistake on the command line: one line saying what, then the usage; exit 2, as CLI tools do. */
function usageError(message: string): never {
  process.stderr.write(`hrchat: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function fail(message: string): never {
  process.stderr.write(`hrchat: ${message}\n`);
  process.exit(1);
}

const API_TYPES = ['auto', 'openai', 'ollama-chat', 'ollama-generate'];

let parsed: ReturnType<typeof parseCommandLine>;
try {
  parsed = parseCommandLine();
} catch (error) {
  // node:util's messages name the option ("Unknown option '--temperature'. …"); its stack helps no one.
  usageError(
    error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error),
  );
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!API_TYPES.includes(values.api)) {
  usageError(`--api takes one of ${API_TYPES.join(', ')}, not '${values.api}'`);
}

function parseCommandLine() {
  return parseArgs({
    options: {
      url: { type: 'string' },
      model: { type: 'string', short: 'm' },
      api: { type: 'string', default: 'auto' },
      'api-key': { type: 'string' },
      'max-tokens': { type: 'string', default: '512' },
      system: { type: 'string', short: 's' },
      temperature: { type: 'string', short: 't' },
      seed: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      prompt: { type: 'string', short: 'p' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

let baseUrl: string;
try {
  baseUrl = values.url ?? serviceUrl('llmchat');
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const api = values.api as ApiType | 'auto';
const maxTokens = Number(values['max-tokens']);
if (!Number.isInteger(maxTokens) || maxTokens <= 0) {
  usageError(`--max-tokens takes a positive whole number, not '${values['max-tokens']}'`);
}

const temperature = values.temperature === undefined ? undefined : Number(values.temperature);
if (temperature !== undefined && !(temperature >= 0 && temperature <= 2)) {
  usageError(`--temperature takes a number from 0 to 2, not '${values.temperature}'`);
}
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isSafeInteger(seed)) {
  usageError(`--seed takes a whole number, not '${values.seed}'`);
}
const sampling = {
  maxTokens,
  ...(temperature !== undefined ? { temperature } : {}),
  ...(seed !== undefined ? { seed } : {}),
};
// `-p -`, or a prompt piped in without -p (as `ollama run` and `llm` read one).
// Empty input from a pipe (or /dev/null) leaves the interactive chat, which ends at once.
const piped = values.prompt === undefined && !process.stdin.isTTY ? await readStdin() : '';
const prompt =
  values.prompt === '-' ? await readStdin() : (values.prompt ?? (piped.trim() ? piped : undefined));
if (values.prompt === '-' && !prompt?.trim()) usageError('no prompt: stdin was empty');

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.replace(/\n$/, '');
}

// A flag is seen in `ps` by other users of the host; the environment is not.
const apiKey = values['api-key'] ?? (process.env.HRSERVE_API_KEY || undefined);
const withKey = apiKey ? { apiKey } : {};

// Find out, before anything else, whether the server is there and which models it has.
const probe = new LlmClient({ baseUrl, model: values.model ?? '', api, retries: 0, ...withKey });
const diagnosis = await probe.diagnose();
if (!diagnosis.reachable) fail(`cannot reach ${baseUrl}. ${diagnosis.advice.join(' ')}`);
const model = values.model ?? diagnosis.models[0];
if (!model) {
  fail(diagnosis.advice[0] ?? `${baseUrl} lists no models; name one with --model.`);
}
const client = new LlmClient({ baseUrl, model, api, ...withKey });

if (prompt !== undefined) {
  // One-shot: the answer as plain text, streamed (for scripts and pipes).
  const messages = [
    ...(values.system ? [{ role: 'system' as const, content: values.system }] : []),
    { role: 'user' as const, content: prompt },
  ];
  try {
    const meter = new AnswerMeter();
    let text = '';
    for await (const delta of client.stream(messages, sampling)) {
      meter.delta();
      text += delta;
      process.stdout.write(delta);
    }
    process.stdout.write('\n');
    if (values.verbose) process.stderr.write(`${await meter.line(client, text)}\n`);
    process.exit(0);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

// llmchat keeps conversations itself (the Conversations API); other servers get local history.
const server =
  api === 'auto' || api === 'openai'
    ? await ServerConversations.detect(baseUrl, apiKey)
    : undefined;
const session = new ChatSession(
  client,
  baseUrl,
  new Conversation(model, values.system ?? ''),
  server,
  apiKey,
);
await session.refreshModels();
const style = styles(process.stdout.isTTY === true && !process.env.NO_COLOR);
await runRepl(session, new ConversationStore(`${dataDir()}/conversations`), style, {
  sampling,
  verbose: values.verbose === true,
});
process.exit(0);
