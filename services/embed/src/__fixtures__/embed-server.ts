import { fileURLToPath } from 'node:url';
import { type FastifyInstance, loadConfig } from 'hrserve';
import OpenAI from 'openai';
import { buildEmbedApp } from '../app.js';
import { embedConfigSchema } from '../config.js';
import { Embedder } from '../engine/embedder.js';
import { loadModel } from '../engine/load.js';

/** The shared test models, beside the checkout (never committed). */
export const MODELS_DIR = fileURLToPath(new URL('../../../../../shared/models/', import.meta.url));
export const STORIES_MODEL = `${MODELS_DIR}stories260K.gguf`;

export interface TestServer {
  app: FastifyInstance;
  embedder: Embedder;
  url: string;
  /** The official OpenAI client, pointed at this server, no retries. */
  openai: OpenAI;
  close(): Promise<void>;
}

/** A real embed service listening on a free loopback port, on stories260K unless `env` says otherwise. */
export async function startEmbed(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig(embedConfigSchema, {
    EMBED_MODEL: STORIES_MODEL,
    OTEL_SDK_DISABLED: 'true',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...env,
  });
  const { app, setEmbedder, state, batches } = await buildEmbedApp(config);
  const embedder = await Embedder.create(await loadModel(config, app.log), config);
  setEmbedder(embedder);
  app.health.set('ok');
  // Files and batches work from the first request (main.ts lets the store open meanwhile).
  await state.start();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  await batches.start();
  return {
    app,
    embedder,
    url,
    openai: new OpenAI({ baseURL: `${url}/v1`, apiKey: 'not-needed', maxRetries: 0 }),
    close: () => app.close(),
  };
}
