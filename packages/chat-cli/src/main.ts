import { parseArgs } from 'node:util';
import { type ApiType, LlmClient, serviceUrl } from '@hrserve/client';
import { Conversation, ConversationStore, dataDir } from './conversation.js';
import { styles } from './render.js';
import { runRepl } from './repl.js';
import { ChatSession } from './session.js';

const USAGE = `usage: hrchat [--url <base URL>] [--model <name>] [--api auto|openai|ollama-chat|ollama-generate] [--max-tokens <n>] [-p "prompt"]
  Default URL: llmchat's, from the port table (HRSERVE_LLMCHAT_URL overrides).`;

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
      'max-tokens': { type: 'string', default: '512' },
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

// Find out, before anything else, whether the server is there and which models it has.
const probe = new LlmClient({ baseUrl, model: values.model ?? '', api, retries: 0 });
const diagnosis = await probe.diagnose();
if (!diagnosis.reachable) fail(`cannot reach ${baseUrl}. ${diagnosis.advice.join(' ')}`);
const model = values.model ?? diagnosis.models[0];
if (!model) fail(`${baseUrl} lists no models; name one with --model.`);
const client = new LlmClient({ baseUrl, model, api });

if (values.prompt !== undefined) {
  // One-shot: the answer as plain text, streamed (for scripts and pipes).
  try {
    for await (const delta of client.stream([{ role: 'user', content: values.prompt }], {
      maxTokens,
    })) {
      process.stdout.write(delta);
    }
    process.stdout.write('\n');
    process.exit(0);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

const session = new ChatSession(client, baseUrl, new Conversation(model));
await session.refreshModels();
const style = styles(process.stdout.isTTY === true && !process.env.NO_COLOR);
await runRepl(session, new ConversationStore(`${dataDir()}/conversations`), style, { maxTokens });
process.exit(0);
