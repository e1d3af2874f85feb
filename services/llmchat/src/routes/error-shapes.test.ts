import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FastifyInstance, loadConfig } from 'hrserve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLlmchatApp } from '../app.js';
import { llmchatConfigSchema } from '../config.js';

/*
 * Errors as each protocol renders them, with no model at all: domain errors from the
 * models layer are mapped once (errors.ts) and each route plugin picks its shape.
 */
describe('error shapes without a model', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const config = loadConfig(llmchatConfigSchema, {
      LLMCHAT_MODELS_DIR: await mkdtemp(join(tmpdir(), 'llmchat-no-models-')),
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'silent',
    });
    ({ app } = await buildLlmchatApp(config));
    app.health.set('ok');
  });
  afterAll(() => app.close());

  it('an unknown model: OpenAI shape on /v1, naming the field', async () => {
    const reply = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'nope', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(reply.statusCode).toBe(404);
    expect(reply.json()).toEqual({
      error: {
        message: "The model 'nope' does not exist. This server serves: no models.",
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    const model = await app.inject({ url: '/v1/models/nope' });
    expect(model.statusCode).toBe(404);
    expect(model.json().error.code).toBe('model_not_found');
  });

  it("an unknown model and an unknown route: Ollama's shape under /api", async () => {
    const reply = await app.inject({
      method: 'POST',
      url: '/api/chat',
      payload: { model: 'nope', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(reply.statusCode).toBe(404);
    expect(reply.json()).toEqual({
      error: "The model 'nope' does not exist. This server serves: no models.",
    });
    const route = await app.inject({ url: '/api/nothing' });
    expect(route.statusCode).toBe(404);
    expect(route.json()).toEqual({
      error: 'No route GET /api/nothing. Check the method and path.',
    });
  });

  it('a route outside both APIs keeps the OpenAI shape', async () => {
    const reply = await app.inject({ url: '/v2/nothing' });
    expect(reply.statusCode).toBe(404);
    expect(reply.json().error.code).toBe('not_found');
  });
});
