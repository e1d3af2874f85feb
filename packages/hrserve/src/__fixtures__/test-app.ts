import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildApp } from '../app.js';
import { baseConfigSchema, loadConfig } from '../config.js';
import { ApiError, defineError, errorCatalogue } from '../errors/catalogue.js';
import { parseRequest } from '../errors/validate.js';

export const teapot = defineError('teapot', 418, 'invalid_request_error');

export interface TestApp {
  app: FastifyInstance;
  /** Log lines written so far, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** An app on the shared runtime with a few routes that exercise it, configured from `env`. */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig(baseConfigSchema({ name: 'testsvc', port: 2999 }), {
    OTEL_SDK_DISABLED: 'true',
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const app = await buildApp({
    config,
    version: '1.2.3',
    logStream: { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  app.get('/v1/ok', async () => ({ ok: true }));
  app.post('/v1/zod', async (request) => {
    const body = parseRequest(
      z.object({
        messages: z
          .array(z.object({ role: z.enum(['user', 'system']), content: z.string() }))
          .min(1),
      }),
      request.body,
    );
    return { count: body.messages.length };
  });
  app.post(
    '/v1/schema',
    {
      schema: {
        body: { type: 'object', required: ['model'], properties: { model: { type: 'string' } } },
      },
    },
    async () => ({ ok: true }),
  );
  app.get('/v1/teapot', async () => {
    throw new ApiError(teapot, 'I am a teapot.', {
      param: 'kettle',
      headers: { 'retry-after': '7' },
    });
  });
  app.get('/v1/loading', async () => {
    throw new ApiError(errorCatalogue.notReady, 'The model is still loading. Retry shortly.');
  });
  app.get('/v1/crash', async () => {
    throw new Error(`secret failure at ${import.meta.url}`);
  });
  return { app, logs };
}
