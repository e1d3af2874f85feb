import { fileURLToPath } from 'node:url';
import { type FastifyInstance, loadConfig } from 'hrserve';
import OpenAI from 'openai';
import { buildLlmchatApp } from '../app.js';
import { llmchatConfigSchema } from '../config.js';
import type { LlamaEngine } from '../engine/llama-engine.js';
import type { ModelManager } from '../models/model-manager.js';

/** The shared test models, beside the checkout (never committed). */
export const MODELS_DIR = fileURLToPath(new URL('../../../../../shared/models/', import.meta.url));
export const STORIES_MODEL = `${MODELS_DIR}stories260K.gguf`;
export const SYNTH_MODEL = `${MODELS_DIR}synth-30M-q8_0.gguf`;

export interface TestServer {
  app: FastifyInstance;
  /** The default model's engine, loaded before the server listens. */
  engine: LlamaEngine;
  models: ModelManager;
  url: string;
  /** The official OpenAI client, pointed at this server, no retries. */
  openai: OpenAI;
  close(): Promise<void>;
}

/** A real llmchat listening on a free loopback port, on stories260K unless `env` says otherwise. */
export async function startLlmchat(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig(llmchatConfigSchema, {
    LLMCHAT_MODEL: STORIES_MODEL,
    OTEL_SDK_DISABLED: 'true',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...env,
  });
  const { app, models } = await buildLlmchatApp(config);
  const preload = models.registry.defaultModel;
  if (!preload) throw new Error('startLlmchat needs LLMCHAT_MODEL');
  const lease = await models.acquireEntry(preload);
  const engine = lease.engine;
  lease.release();
  app.health.set('ok');
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    engine,
    models,
    url,
    openai: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'not-needed', maxRetries: 0 }),
    close: () => app.close(),
  };
}
