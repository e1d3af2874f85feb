import { request as httpRequest } from 'node:http';
import { MODEL, type ScenarioResult, startLlmchat } from '../target.js';

const ROUTES: Array<[string, string, unknown?]> = [
  ['GET', '/v1/models'],
  ['GET', `/v1/models/${MODEL}`],
  [
    'POST',
    '/v1/chat/completions',
    { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 },
  ],
  ['POST', '/v1/completions', { model: MODEL, prompt: 'hi', max_tokens: 2 }],
  ['POST', '/tokenize', { content: 'hi' }],
  ['POST', '/detokenize', { tokens: [1] }],
  [
    'POST',
    '/api/chat',
    {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
      options: { num_predict: 2 },
    },
  ],
  [
    'POST',
    '/api/generate',
    { model: MODEL, prompt: 'hi', stream: false, options: { num_predict: 2 } },
  ],
  ['GET', '/api/tags'],
  ['GET', '/api/ps'],
  ['POST', '/api/show', { model: MODEL }],
  ['GET', '/api/version'],
  ['GET', '/'],
  ['GET', '/metrics'],
];

function rawStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL('/v1/models', url), { headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * With an API key: every route but /health, /healthz and /live refuses a
 * missing or wrong key with 401; default bind 127.0.0.1; header and body limits.
 */
export async function securityScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const key = 'reliability-key-1';
  const service = await startLlmchat({ API_KEYS: key });
  const url = service.url;
  const call = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then(async (response) => ({ status: response.status, body: await response.text() }));
  let refused = 0;
  let allowed = 0;
  try {
    for (const [method, path, body] of ROUTES) {
      const none = await call(method, path, body, {});
      const wrong = await call(method, path, body, { authorization: 'Bearer wrong' });
      const right = await call(method, path, body, { authorization: `Bearer ${key}` });
      if (none.status !== 401 || wrong.status !== 401)
        failures.push(`${method} ${path}: ${none.status}/${wrong.status} without/wrong key`);
      else refused += 2;
      if (right.status === 401 || right.status >= 500)
        failures.push(`${method} ${path}: ${right.status} with the key`);
      else allowed += 1;
    }
    for (const path of ['/health', '/healthz', '/live']) {
      const status = (await call('GET', path, undefined, {})).status;
      if (status !== 200) failures.push(`${path} without a key: ${status}`);
    }
    const host = new URL(url).hostname;
    if (host !== '127.0.0.1') failures.push(`listens on ${host} by default`);
    const headerStatus = await rawStatus(url, {
      authorization: `Bearer ${key}`,
      'x-big': 'a'.repeat(64 * 1024),
    });
    if (headerStatus !== 431) failures.push(`a 64 KiB header got ${headerStatus}, expected 431`);
    const big = await call(
      'POST',
      '/v1/chat/completions',
      { model: MODEL, messages: [{ role: 'user', content: 'a'.repeat(12 * 2 ** 20) }] },
      { authorization: `Bearer ${key}` },
    );
    if (big.status !== 413) failures.push(`a 12 MiB body got ${big.status}, expected 413`);
    const traversal = await call(
      'POST',
      '/v1/chat/completions',
      { model: '../../../../etc/passwd', messages: [{ role: 'user', content: 'x' }] },
      { authorization: `Bearer ${key}` },
    );
    if (traversal.status !== 404)
      failures.push(`a path as model name got ${traversal.status}, expected 404`);
    if (/\/etc\/passwd.*root:|\/work\//.test(traversal.body))
      failures.push('a model-name path leaked into the body');
    return {
      name: 'security: API key, bind address, limits, model names',
      figures: {
        'routes checked': ROUTES.length,
        'refused without/with a wrong key': refused,
        'served with the key': allowed,
        'default bind': host,
        '64 KiB header': headerStatus,
        '12 MiB body': big.status,
        'model "../../../../etc/passwd"': traversal.status,
      },
      failures,
    };
  } finally {
    await service.stop();
  }
}
