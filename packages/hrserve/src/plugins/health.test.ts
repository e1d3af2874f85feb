import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../__fixtures__/test-app.js';

describe('/health and /live', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await buildTestApp();
  });
  afterAll(() => testApp.app.close());

  const health = async (url = '/health') => {
    const response = await testApp.app.inject({ url });
    return { status: response.statusCode, body: response.json() };
  };

  it('go from starting through loading to ok, with the details a service adds', async () => {
    let answer = await health();
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ status: 'starting', service: 'testsvc', version: '1.2.3' });
    expect(answer.body.uptime_s).toBeGreaterThanOrEqual(0);
    // Every service reports its resident memory (the fleet table shows it).
    expect(answer.body.rss_bytes).toBeGreaterThan(0);
    expect(answer.body.telemetry).toEqual({
      enabled: false,
      protocol: null,
      endpoint: null,
      last_export: null,
    });

    testApp.app.health.addDetail('model', () => ({
      id: 'stories260K',
      loaded: testApp.app.health.status === 'ok',
    }));
    testApp.app.health.set('loading', 'loading stories260K.gguf');
    answer = await health();
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({
      status: 'loading',
      reason: 'loading stories260K.gguf',
      model: { loaded: false },
    });

    testApp.app.health.set('ok');
    answer = await health();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ok', model: { id: 'stories260K', loaded: true } });
    expect(answer.body.reason).toBeUndefined();
    expect(await health('/healthz')).toEqual({
      status: 200,
      body: { ...answer.body, uptime_s: expect.any(Number), rss_bytes: expect.any(Number) },
    });
  });

  it('report error with 503 while /live stays 200', async () => {
    testApp.app.health.set('error', 'model file is corrupt');
    const answer = await health();
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ status: 'error', reason: 'model file is corrupt' });
    const live = await testApp.app.inject({ url: '/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
  });

  it('stay draining once draining, turning new work away with 503 and Retry-After', async () => {
    testApp.app.health.set('draining');
    testApp.app.lifecycle.startDraining();
    testApp.app.health.set('ok');
    const answer = await health();
    expect(answer.status).toBe(503);
    expect(answer.body.status).toBe('draining');

    const refused = await testApp.app.inject({ url: '/v1/ok' });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.headers.connection).toBe('close');
    expect(refused.json().error.code).toBe('service_draining');
    expect((await testApp.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});
