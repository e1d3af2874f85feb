import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './__fixtures__/test-app.js';

describe('client_job_id', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await buildTestApp();
  });
  afterAll(() => testApp.app.close());

  it.each(['a', 'job-42', 'batch_7.part:3', 'A'.repeat(128), '2026-11-21T10:00:00'])(
    'accepts %j from the query and the header, and echoes it',
    async (id) => {
      const fromQuery = await testApp.app.inject({
        url: `/v1/ok?client_job_id=${encodeURIComponent(id)}`,
      });
      expect(fromQuery.statusCode).toBe(200);
      expect(fromQuery.headers['x-client-job-id']).toBe(id);
      const fromHeader = await testApp.app.inject({
        url: '/v1/ok',
        headers: { 'x-client-job-id': id },
      });
      expect(fromHeader.statusCode).toBe(200);
      expect(fromHeader.headers['x-client-job-id']).toBe(id);
      expect(fromHeader.json()).toEqual({ ok: true });
    },
  );

  it.each([
    ['empty', ''],
    ['too long', 'A'.repeat(129)],
    ['a space', 'job 1'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'jöb'],
    ['a quote', 'job"1'],
    ['a newline', 'job\n1'],
  ])('rejects %s in the query with 400 naming the rule', async (_label, id) => {
    const response = await testApp.app.inject({
      url: `/v1/ok?client_job_id=${encodeURIComponent(id)}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-client-job-id']).toBeUndefined();
    expect(response.json()).toEqual({
      error: {
        message: `Invalid query parameter 'client_job_id': must be 1-128 characters, each a letter, digit, ".", "_", ":" or "-".`,
        type: 'invalid_request_error',
        param: 'client_job_id',
        code: 'invalid_client_job_id',
      },
    });
  });

  it('rejects a bad header, a repeated parameter and a header that disagrees with the query', async () => {
    const badHeader = await testApp.app.inject({
      url: '/v1/ok',
      headers: { 'x-client-job-id': 'a b' },
    });
    expect(badHeader.statusCode).toBe(400);
    expect(badHeader.json().error.param).toBe('x-client-job-id');

    const repeated = await testApp.app.inject({ url: '/v1/ok?client_job_id=a&client_job_id=b' });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json().error.message).toContain('more than once');

    const conflict = await testApp.app.inject({
      url: '/v1/ok?client_job_id=a',
      headers: { 'x-client-job-id': 'b' },
    });
    expect(conflict.statusCode).toBe(400);
    expect(conflict.json().error.message).toContain('differs');

    const agreeing = await testApp.app.inject({
      url: '/v1/ok?client_job_id=a',
      headers: { 'x-client-job-id': 'a' },
    });
    expect(agreeing.statusCode).toBe(200);
  });

  it('puts the client_job_id on every log line of the request', async () => {
    const before = testApp.logs.length;
    await testApp.app.inject({ url: '/v1/ok?client_job_id=logged-job' });
    const lines = testApp.logs.slice(before);
    expect(lines.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
    for (const line of lines) expect(line.client_job_id).toBe('logged-job');
  });
});
