import { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../__fixtures__/test-app.js';

/** The value of the sample `name` whose labels include `labels`, from Prometheus text; label order is free. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }
  return undefined;
}

describe('/metrics', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await buildTestApp();
  });
  afterAll(() => testApp.app.close());

  it('counts requests by route template and status, with durations and process metrics', async () => {
    await testApp.app.inject({ url: '/v1/ok' });
    await testApp.app.inject({ url: '/v1/ok?x=1' });
    await testApp.app.inject({ url: '/v1/teapot' });
    await testApp.app.inject({ url: '/no/such/route/123' });

    const response = await testApp.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    const ok = { method: 'GET', route: '/v1/ok', service: 'testsvc' };
    expect(sample(text, 'http_requests_total', { ...ok, status: '200' })).toBe(2);
    expect(
      sample(text, 'http_requests_total', { method: 'GET', route: '/v1/teapot', status: '418' }),
    ).toBe(1);
    // Unknown paths share one label value instead of one series per URL.
    expect(sample(text, 'http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain('/no/such/route');
    expect(sample(text, 'http_request_duration_seconds_count', ok)).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_sum', ok)).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    // The Node.js a service runs on, for operators (not on the open /health).
    expect(sample(text, 'nodejs_version_info', { version: process.version })).toBe(1);
    expect(sample(text, 'hrserve_build_info', { version: '1.2.3' })).toBe(1);
    // An info metric is a gauge (a counter would be summed by rate()).
    expect(text).toContain('# TYPE hrserve_build_info gauge');
  });

  it('serves what a service registers on app.metrics', async () => {
    const tokens = new Counter({
      name: 'testsvc_tokens_generated_total',
      help: 'Tokens generated.',
      registers: [testApp.app.metrics],
    });
    tokens.inc(42);
    const text = (await testApp.app.inject({ url: '/metrics' })).body;
    expect(sample(text, 'testsvc_tokens_generated_total', { service: 'testsvc' })).toBe(42);
  });
});
