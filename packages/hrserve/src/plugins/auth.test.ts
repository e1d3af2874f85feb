import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../__fixtures__/test-app.js';
import { buildApp } from '../app.js';
import { baseConfigSchema, loadConfig } from '../config.js';

describe('API keys', () => {
  let secured: TestApp;
  let open: TestApp;
  beforeAll(async () => {
    secured = await buildTestApp({ API_KEYS: 'key-one, key-two' });
    open = await buildTestApp();
  });
  afterAll(async () => {
    await secured.app.close();
    await open.app.close();
  });

  it('are off by default', async () => {
    expect((await open.app.inject({ url: '/v1/ok' })).statusCode).toBe(200);
    expect((await open.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });

  it.each([
    ['Authorization: Bearer', { authorization: 'Bearer key-one' }],
    ['lower-case bearer', { authorization: 'bearer key-two' }],
    ['X-Api-Key', { 'x-api-key': 'key-two' }],
  ])('accept a configured key in %s', async (_label, headers) => {
    expect((await secured.app.inject({ url: '/v1/ok', headers })).statusCode).toBe(200);
  });

  it.each([
    ['no key', {}, 'Missing API key'],
    ['a wrong key', { authorization: 'Bearer key-three' }, 'Incorrect API key'],
    ['a prefix of a key', { 'x-api-key': 'key-' }, 'Incorrect API key'],
    ['a key in the wrong scheme', { authorization: 'Basic key-one' }, 'Missing API key'],
  ])('reject %s with 401 in the error shape', async (_label, headers, message) => {
    const response = await secured.app.inject({ url: '/v1/ok', headers });
    expect(response.statusCode).toBe(401);
    const { error } = response.json();
    expect(error.type).toBe('authentication_error');
    expect(error.code).toBe('invalid_api_key');
    expect(error.message).toContain(message);
  });

  it('protect unknown routes and /metrics but leave /health, /healthz and /live open', async () => {
    expect((await secured.app.inject({ url: '/nothing' })).statusCode).toBe(401);
    expect((await secured.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    for (const url of ['/health', '/healthz', '/live', '/health?verbose=1']) {
      expect((await secured.app.inject({ url })).statusCode).not.toBe(401);
    }
  });
});

describe("a service's own open paths and credential (the console's login page and session)", () => {
  it('open the paths it names, accept its credential, and still refuse everything else', async () => {
    const config = loadConfig(baseConfigSchema({ name: 'testsvc', port: 2999 }), {
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'silent',
      API_KEYS: 'key-one',
    });
    const app = await buildApp({
      config,
      version: '1.2.3',
      auth: {
        isOpen: (path) => path === '/' || path.startsWith('/assets/'),
        accepts: (request) => request.headers.cookie === 'session=good',
      },
    });
    for (const url of ['/', '/assets/x.js', '/v1/ok']) app.get(url, async () => ({ ok: true }));
    const status = async (url: string, headers: Record<string, string> = {}) =>
      (await app.inject({ url, headers })).statusCode;
    expect(await status('/')).toBe(200);
    expect(await status('/assets/x.js?v=1')).toBe(200);
    expect(await status('/v1/ok')).toBe(401);
    expect(await status('/v1/ok', { cookie: 'session=bad' })).toBe(401);
    expect(await status('/v1/ok', { cookie: 'session=good' })).toBe(200);
    // A wrong key is refused even with a good credential: a key, when sent, decides.
    expect(await status('/v1/ok', { cookie: 'session=good', 'x-api-key': 'nope' })).toBe(401);
    expect(await status('/v1/ok', { 'x-api-key': 'key-one' })).toBe(200);
    await app.close();
  });
});
