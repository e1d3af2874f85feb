import { fileURLToPath } from 'node:url';
import { type FastifyInstance, loadConfig } from 'hrserve';
import OpenAI from 'openai';
import { buildLlmchatApp, type LlmchatDeps } from '../app.js';
import { llmchatConfigSchema } from '../config.js';
import type { ModelManager } from '../models/model-manager.js';
import { checkModelsToServe, loadDefaultModel } from '../start.js';

/** The shared test models, beside the checkout (never committed). */
export const MODELS_DIR = fileURLToPath(new URL('../../../../../shared/models/', import.meta.url));
export const STORIES_MODEL = `${MODELS_DIR}stories260K.gguf`;
export const SYNTH_MODEL = `${MODELS_DIR}synth-30M-q8_0.gguf`;

export interface TestServer {
  app: FastifyInstance;
  models: ModelManager;
  url: string;
  /** The official OpenAI client, pointed at this server, no retries. */
  openai: OpenAI;
  close(): Promise<void>;
}

/**
 * A real llmchat listening on a free loopback port, started as main.ts starts
 * it (the default model loaded before this resolves): on stories260K unless
 * `env` says otherwise, or on a scripted engine given in `deps`.
 */
export async function startLlmchat(
  env: Record<string, string> = {},
  deps: LlmchatDeps = {},
): Promise<TestServer> {
  const config = loadConfig(llmchatConfigSchema, {
    LLMCHAT_MODEL: STORIES_MODEL,
    OTEL_SDK_DISABLED: 'true',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...env,
  });
  const llmchat = await buildLlmchatApp(config, deps);
  const { app, models } = llmchat;
  // Stored responses work from the first request (main.ts lets the store open meanwhile).
  await llmchat.state.start();
  let url: string;
  try {
    await checkModelsToServe(llmchat, config.LLMCHAT_MODELS_DIR);
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    await loadDefaultModel(llmchat);
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    app,
    models,
    url,
    openai: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'not-needed', maxRetries: 0 }),
    close: () => app.close(),
  };
}
