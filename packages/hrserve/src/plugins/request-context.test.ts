import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../__fixtures__/test-app.js';

describe('request ids', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await buildTestApp();
  });
  afterAll(() => testApp.app.close());

  it('reuse a sane x-request-id and put it in the response and every log line', async () => {
    const before = testApp.logs.length;
    const response = await testApp.app.inject({
      url: '/v1/ok',
      headers: { 'x-request-id': 'caller-req.1' },
    });
    expect(response.headers['x-request-id']).toBe('caller-req.1');
    expect(response.json()).toEqual({ ok: true });
    const lines = testApp.logs.slice(before);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      expect(line.request_id).toBe('caller-req.1');
      expect(line.service).toBe('testsvc');
    }
  });

  it.each([
    ['missing', undefined],
    ['too long', 'r'.repeat(200)],
    ['with spaces', 'a b'],
    ['with a log-injection attempt', 'x"\\n{"level":60}'],
  ])('generate a fresh one when the sent id is %s', async (_label, sent) => {
    const response = await testApp.app.inject({
      url: '/v1/ok',
      headers: sent === undefined ? {} : { 'x-request-id': sent },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('are given on errors too', async () => {
    const response = await testApp.app.inject({
      url: '/nowhere',
      headers: { 'x-request-id': 'err-1' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['x-request-id']).toBe('err-1');
    // Metadata rides in headers only: the body is exactly the error shape.
    expect(Object.keys(response.json())).toEqual(['error']);
  });
});
