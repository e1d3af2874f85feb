import { request as httpRequest } from 'node:http';
import { MODEL, pool, type ScenarioResult } from '../target.js';

/** One malformed request: what it is, and how to send it. */
interface Case {
  label: string;
  path?: string;
  /** Raw bytes or a string body. */
  body: string | Buffer;
  headers?: Record<string, string>;
  /** Never valid: a 200 is a failure too (the oracle otherwise accepts a weird value that is valid after all). */
  refuse?: boolean;
}

const VALID = {
  model: MODEL,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Once upon a time' },
  ],
  max_tokens: 4,
  temperature: 0.5,
  top_p: 0.9,
  stream: false,
  stop: ['\n'],
  seed: 1,
  tools: [
    {
      type: 'function',
      function: {
        name: 'f',
        parameters: { type: 'object', properties: { a: { type: 'string' } } },
      },
    },
  ],
  tool_choice: 'auto',
  response_format: { type: 'text' },
};

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e308,
  2 ** 53 + 1,
  'x',
  '',
  'ß'.repeat(5000),
  [],
  [1, 2],
  {},
  { a: { b: { c: 1 } } },
];

/** ≥ 1,000 malformed requests across every field and the transport. */
export function fuzzCases(): Case[] {
  const cases: Case[] = [];
  const json = (label: string, body: unknown, extra: Partial<Case> = {}) =>
    cases.push({ label, body: JSON.stringify(body), ...extra });
  const text = JSON.stringify(VALID);
  // Invalid JSON: every prefix of a valid body, and garbage.
  for (let cut = 1; cut < text.length; cut += 2)
    cases.push({ label: `truncated at ${cut}`, body: text.slice(0, cut) });
  for (const garbage of [
    '{',
    '}',
    '[',
    'nul',
    '{"model":}',
    "{'a':1}",
    '{"a":1,,}',
    '\u0000',
    'undefined',
  ])
    cases.push({ label: `garbage ${garbage}`, body: garbage });
  // Every field replaced by every wrong value (some are valid for some fields: skipped by the oracle below).
  for (const field of Object.keys(VALID)) {
    for (const value of WEIRD_VALUES)
      json(`${field}=${JSON.stringify(value).slice(0, 20)}`, { ...VALID, [field]: value });
    json(
      `${field} missing`,
      Object.fromEntries(Object.entries(VALID).filter(([key]) => key !== field)),
    );
  }
  // Message-level damage.
  const message = (change: Record<string, unknown>) => ({
    ...VALID,
    messages: [{ role: 'user', content: 'hi', ...change }],
  });
  for (const role of ['robot', '', 'SYSTEM', null, 7, 'function'])
    json(`role ${String(role)}`, message({ role }));
  for (const content of [
    null,
    5,
    {},
    [{ type: 'image_url', image_url: { url: 'x' } }],
    [{ type: 'nope' }],
    [{}],
  ])
    json(`content ${JSON.stringify(content)}`, message({ content }));
  json('no messages', { ...VALID, messages: [] });
  json('10,001 messages', {
    ...VALID,
    messages: Array.from({ length: 10_001 }, () => ({ role: 'user', content: 'a' })),
  });
  json('prompt over the context', {
    ...VALID,
    messages: [{ role: 'user', content: 'word '.repeat(20_000) }],
  });
  // Numbers out of range.
  for (const [field, value] of [
    ['max_tokens', -5],
    ['max_tokens', 0],
    ['max_tokens', 1e12],
    ['temperature', 3],
    ['temperature', -1],
    ['top_p', 2],
    ['top_k', -3],
    ['presence_penalty', 9],
    ['n', 5],
    ['seed', 1.5],
    ['logit_bias', { 1: 500 }],
    ['logit_bias', { x: 1 }],
  ] as const)
    json(`${field}=${JSON.stringify(value)}`, { ...VALID, [field]: value });
  // Deep nesting.
  for (const depth of [100, 1000, 10_000]) {
    cases.push({
      label: `nested ${depth}`,
      body: `{"model":"${MODEL}","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    });
    cases.push({
      label: `deep tool schema ${depth}`,
      body: `{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nestedSchema(depth)}}}]}`,
    });
  }
  // Broken tool schemas and json_schemas.
  for (const schema of [
    { type: 'strnig' },
    { type: 'object', properties: 5 },
    { $ref: '#/nowhere' },
    { type: 'object', required: 'a' },
    'schema',
    7,
  ]) {
    json(`tool schema ${JSON.stringify(schema)}`, {
      ...VALID,
      tools: [{ type: 'function', function: { name: 'f', parameters: schema } }],
    });
    json(`json_schema ${JSON.stringify(schema)}`, {
      ...VALID,
      tools: undefined,
      tool_choice: undefined,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema } },
    });
  }
  for (const name of ['', 'has space', 'x'.repeat(200), '../f'])
    json(`tool name ${name.slice(0, 20)}`, {
      ...VALID,
      tools: [{ type: 'function', function: { name, parameters: {} } }],
    });
  // Invalid UTF-8 inside a string.
  for (const bytes of [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x9f, 0x98]]) {
    cases.push({
      label: `invalid UTF-8 ${bytes.join(',')}`,
      refuse: true,
      body: Buffer.concat([
        Buffer.from(`{"model":"${MODEL}","messages":[{"role":"user","content":"`),
        Buffer.from(bytes),
        Buffer.from('"}]}'),
      ]),
    });
  }
  // A 10 MB body, a wrong content type, bad client_job_ids.
  cases.push({
    label: '10 MB body',
    body: JSON.stringify({
      ...VALID,
      messages: [{ role: 'user', content: 'a'.repeat(10 * 2 ** 20) }],
    }),
  });
  cases.push({ label: 'text/plain', body: text, headers: { 'content-type': 'text/plain' } });
  for (const id of ['', 'has space', 'x'.repeat(129), '../etc', 'ü', 'a;b'])
    cases.push({
      label: `client_job_id ${id.slice(0, 12)}`,
      path: `/v1/chat/completions?client_job_id=${encodeURIComponent(id)}`,
      body: text,
    });
  // The other routes.
  for (const [path, body] of [
    ['/v1/completions', { model: MODEL, prompt: 7 }],
    ['/v1/completions', { model: MODEL, prompt: 'x', max_tokens: -1 }],
    ['/tokenize', { content: 5 }],
    ['/detokenize', { tokens: [-1] }],
    ['/detokenize', { tokens: [1e9] }],
    ['/api/chat', { model: MODEL, messages: 'x' }],
    ['/api/chat', { model: MODEL, messages: [{ role: 'robot', content: 'x' }] }],
    ['/api/generate', { model: MODEL, prompt: 'x', keep_alive: 'soon' }],
    ['/api/generate', { model: MODEL, prompt: 'x', options: { num_predict: 'many' } }],
    ['/api/show', {}],
    ['/api/chat', { model: '../../etc/passwd', messages: [{ role: 'user', content: 'x' }] }],
  ] as const)
    json(`${path} ${JSON.stringify(body).slice(0, 40)}`, body, { path });
  // The whole set again until past 1,000: the same input must get the same clean answer every time.
  const base = [...cases];
  for (let round = 1; cases.length < 1100; round++) {
    for (const item of base) cases.push({ ...item, label: `${item.label} (again ${round})` });
  }
  return cases;
}

/** A schema `depth` objects deep, as text (too deep for JSON.stringify's recursion). */
function nestedSchema(depth: number): string {
  return `${'{"type":"object","properties":{"a":'.repeat(depth)}{"type":"string"}${'}}'.repeat(depth)}`;
}

function send(url: string, item: Case): Promise<{ status: number; body: string }> {
  const target = new URL(item.path ?? '/v1/chat/completions', url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...item.headers },
        timeout: 30_000,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer in 30 s')));
    request.on('error', reject);
    request.end(item.body);
  });
}

/** The error bodies every route must send: OpenAI's (Ollama's on /api). */
function wellShaped(path: string, body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (path.startsWith('/api/')) return typeof parsed.error === 'string';
    const error = parsed.error as
      | { message?: unknown; type?: unknown; code?: unknown; param?: unknown }
      | undefined;
    return (
      typeof error?.message === 'string' &&
      typeof error.type === 'string' &&
      'param' in error &&
      'code' in error
    );
  } catch {
    return false;
  }
}

/** Leaks no stack trace or file path. */
function leaks(body: string): boolean {
  // A stack frame (`at fn (file:line:col)`), or a file path.
  return /\bat \S+ \(?[^\s()]+:\d+:\d+\)?|\/work\/|\/home\/|\/usr\/|node_modules|\.[jt]s:\d+/.test(
    body,
  );
}

/**
 * ≥ 1,000 malformed requests: each a 4xx in the API's error shape, none a 500,
 * a hang or a leak of a stack or path; the server healthy and a good request
 * working afterwards.
 */
export async function fuzzScenario(url: string): Promise<ScenarioResult> {
  const failures: string[] = [];
  const cases = fuzzCases();
  const started = performance.now();
  const results = await pool(cases, 8, async (item) => {
    try {
      return { item, ...(await send(url, item)) };
    } catch (error) {
      return { item, status: 0, body: String(error) };
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const byStatus = new Map<number, number>();
  for (const result of results) byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
  // Some "weird" values are valid for some fields (e.g. seed 0): a 200 is then right; anything else must be a clean 4xx.
  const ok = results.filter((result) => result.status === 200);
  const bad = results.filter((result) =>
    result.status === 200
      ? result.item.refuse === true
      : result.status < 400 || result.status >= 500,
  );
  const misshapen = results.filter(
    (result) =>
      result.status >= 400 &&
      result.status < 500 &&
      !wellShaped(result.item.path ?? '/v1', result.body),
  );
  const leaked = results.filter((result) => leaks(result.body));
  if (bad.length > 0)
    failures.push(
      `${bad.length} not 4xx, e.g. ${bad[0]?.item.label} → ${bad[0]?.status} ${bad[0]?.body.slice(0, 120)}`,
    );
  if (misshapen.length > 0)
    failures.push(
      `${misshapen.length} error bodies not in the API's shape, e.g. ${misshapen[0]?.item.label}: ${misshapen[0]?.body.slice(0, 120)}`,
    );
  if (leaked.length > 0)
    failures.push(`${leaked.length} bodies show a stack or path, e.g. ${leaked[0]?.item.label}`);
  const healthy = await fetch(`${url}/health`).then((response) => response.status);
  const good = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...VALID, tools: undefined, tool_choice: undefined }),
  }).then((response) => response.status);
  if (healthy !== 200) failures.push(`health ${healthy} afterwards`);
  if (good !== 200) failures.push(`a good request afterwards got ${good}`);
  return {
    name: `bad input: ${cases.length} malformed requests`,
    figures: {
      requests: cases.length,
      'by status': [...byStatus.entries()]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}×${count}`)
        .join(' '),
      '5xx or hang': bad.length,
      'accepted (valid after all)': ok.length,
      'misshapen error bodies': misshapen.length,
      'stack/path leaks': leaked.length,
      'requests/s': (cases.length / seconds).toFixed(0),
      'good request after': good,
    },
    failures,
  };
}
