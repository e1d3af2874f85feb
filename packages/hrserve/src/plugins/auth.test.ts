import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../__fixtures__/test-app.js';

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
