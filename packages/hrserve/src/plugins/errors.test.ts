import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, teapot } from '../__fixtures__/test-app.js';
import { ApiError, defineError } from '../errors/catalogue.js';
import { openAIErrorBodySchema } from '../errors/openai-error-body.js';
import { renderErrorsAs, toApiError } from './errors.js';

function expectErrorShape(body: unknown) {
  return openAIErrorBodySchema.strict().parse(body).error;
}

describe('errors rendered as OpenAI error JSON', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await buildTestApp({ BODY_LIMIT_BYTES: '1024', MAX_HEADER_BYTES: '2048' });
  });
  afterAll(() => testApp.app.close());

  it('unknown route → 404 in the same shape', async () => {
    const response = await testApp.app.inject({ method: 'POST', url: '/v1/nothing?x=1' });
    expect(response.statusCode).toBe(404);
    expect(expectErrorShape(response.json())).toEqual({
      message: 'No route POST /v1/nothing. Check the method and path.',
      type: 'not_found_error',
      param: null,
      code: 'not_found',
    });
  });

  it('zod violations → 400 naming the field path', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/zod',
      payload: {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'robot', content: 3 },
        ],
      },
    });
    expect(response.statusCode).toBe(400);
    const error = expectErrorShape(response.json());
    expect(error.param).toBe('messages.1.role');
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain("'messages.1.role'");
    expect(error.message).toContain("'messages.1.content'");
  });

  it('fastify schema violations → 400 naming the missing field', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/schema',
      payload: { other: 1 },
    });
    expect(response.statusCode).toBe(400);
    const error = expectErrorShape(response.json());
    expect(error.param).toBe('model');
    expect(error.message).toContain("'model'");
  });

  it.each([
    ['invalid JSON', '{"messages": [', 'application/json', 400, 'invalid_json'],
    ['an empty JSON body', '', 'application/json', 400, 'invalid_json'],
    ['an unsupported content type', 'hello', 'text/csv', 415, 'unsupported_media_type'],
    // Was a 400 "expected object, received string": the body must be sent as JSON.
    ['JSON sent as text/plain', '{"model": "m"}', 'text/plain', 415, 'unsupported_media_type'],
    [
      'a body over the limit',
      JSON.stringify({ text: 'x'.repeat(2000) }),
      'application/json',
      413,
      'payload_too_large',
    ],
  ])('%s → %i', async (_label, payload, contentType, status, code) => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/zod',
      payload,
      headers: { 'content-type': contentType },
    });
    expect(response.statusCode).toBe(status);
    expect(expectErrorShape(response.json()).code).toBe(code);
  });

  it('a body that is not UTF-8 → 400 naming the byte, not a request on U+FFFD', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/zod',
      payload: Buffer.concat([
        Buffer.from('{"text":"ok '),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    const error = expectErrorShape(response.json());
    expect(error.code).toBe('invalid_json');
    expect(error.message).toBe(
      'The request body is not valid UTF-8 (byte 12 is 0xc3). Send JSON encoded as UTF-8.',
    );
  });

  it('a service error keeps its status, param and headers', async () => {
    const response = await testApp.app.inject({ url: '/v1/teapot' });
    expect(response.statusCode).toBe(418);
    expect(response.headers['retry-after']).toBe('7');
    expect(expectErrorShape(response.json())).toEqual({
      message: 'I am a teapot.',
      type: 'invalid_request_error',
      param: 'kettle',
      code: 'teapot',
    });
  });

  it('an unexpected error → 500 with no stack trace, path or internal message', async () => {
    const response = await testApp.app.inject({ url: '/v1/crash' });
    expect(response.statusCode).toBe(500);
    const error = expectErrorShape(response.json());
    expect(error.code).toBe('internal_error');
    expect(response.body).not.toMatch(/secret|file:|\/work\/|at .*\(|\.ts/);
    // …but the operator gets it all in the log, under the request's id.
    const logged = testApp.logs.find((line) => line.msg === 'request failed');
    expect(logged?.request_id).toBe(response.headers['x-request-id']);
    expect(JSON.stringify(logged?.err)).toContain('secret failure');
  });

  it('oversized headers → 431 in the same shape, from a real socket', async () => {
    await testApp.app.listen({ port: 0, host: '127.0.0.1' });
    const address = testApp.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    const { status, body } = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port: address.port,
            path: '/v1/ok',
            headers: { 'x-big': 'y'.repeat(4096) },
          },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
          },
        );
        request.on('error', reject);
        request.end();
      },
    );
    expect(status).toBe(431);
    expect(expectErrorShape(JSON.parse(body)).code).toBe('headers_too_large');
  });

  it('logs an unforeseen failure as an error with its stack, a catalogued 503 as a warning', async () => {
    const before = testApp.logs.length;
    await testApp.app.inject({ method: 'GET', url: '/v1/crash' });
    await testApp.app.inject({ method: 'GET', url: '/v1/loading' });
    const failures = testApp.logs.slice(before).filter((line) => Number(line.level) >= 40);
    expect(
      failures.map((line) => [line.level, Boolean((line.err as { stack?: string })?.stack)]),
    ).toEqual([
      [50, true],
      [40, false],
    ]);
  });
});

describe('a service mapping its domain errors (mapError)', () => {
  class QueueFull extends Error {}
  const busy = defineError('test_queue_full', 429, 'rate_limit_error');
  const mapError = (error: unknown) =>
    error instanceof QueueFull ? new ApiError(busy, error.message) : undefined;

  it('turns the errors it knows into catalogued API errors, and leaves the rest alone', () => {
    expect(
      toApiError(new QueueFull('The queue is full.'), { bodyLimitBytes: 1, mapError }),
    ).toMatchObject({ status: 429, code: 'test_queue_full', message: 'The queue is full.' });
    const other = toApiError(new Error('/secret/path'), { bodyLimitBytes: 1, mapError });
    expect(other.status).toBe(500);
    expect(other.message).not.toContain('/secret/path');
  });
});

describe('a route plugin rendering its errors in another shape (renderErrorsAs)', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await buildTestApp();
    await testApp.app.register(async (other) => {
      renderErrorsAs(other, (error) => ({ error: error.message }), { notFoundUnder: '/other' });
      other.get('/other/teapot', async () => {
        throw new ApiError(teapot, 'I am a teapot.', { headers: { 'retry-after': '7' } });
      });
      other.get('/other/crash', async () => {
        throw new Error(`secret failure at ${import.meta.url}`);
      });
    });
    await testApp.app.register(async (busy) => {
      // Another API's status for one error (as Anthropic's 529 for overloaded).
      renderErrorsAs(busy, (error) => ({ type: 'error', message: error.message }), {
        status: (error) => (error.code === 'teapot' ? 529 : error.status),
      });
      busy.get('/busy/teapot', async () => {
        throw new ApiError(teapot, 'I am a busy teapot.', { headers: { 'retry-after': '3' } });
      });
    });
  });
  afterAll(() => testApp.app.close());

  it('renders its own errors and 404s in its shape, keeping status and headers', async () => {
    const teapotReply = await testApp.app.inject({ url: '/other/teapot' });
    expect(teapotReply.statusCode).toBe(418);
    expect(teapotReply.headers['retry-after']).toBe('7');
    expect(teapotReply.json()).toEqual({ error: 'I am a teapot.' });

    const crash = await testApp.app.inject({ url: '/other/crash' });
    expect(crash.statusCode).toBe(500);
    expect(JSON.stringify(crash.json())).not.toContain('secret');
    expect(Object.keys(crash.json())).toEqual(['error']);

    const missing = await testApp.app.inject({ url: '/other/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: 'No route GET /other/nothing. Check the method and path.',
    });
  });

  it("gives an error another API's status where that API differs", async () => {
    const reply = await testApp.app.inject({ url: '/busy/teapot' });
    expect(reply.statusCode).toBe(529);
    expect(reply.headers['retry-after']).toBe('3');
    expect(reply.json()).toEqual({ type: 'error', message: 'I am a busy teapot.' });
  });

  it('leaves the rest of the app in OpenAI shape', async () => {
    const teapotReply = await testApp.app.inject({ url: '/v1/teapot' });
    expect(expectErrorShape(teapotReply.json()).code).toBe('teapot');
    const missing = await testApp.app.inject({ url: '/v2/nothing' });
    expect(expectErrorShape(missing.json()).code).toBe('not_found');
  });
});
