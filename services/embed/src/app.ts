import { basename } from 'node:path';
import { BatchApi, batchOptionsOf } from '@hrserve/batches';
import { StateStore } from '@hrserve/store';
import {
  AdmissionQueue,
  ApiError,
  buildApp,
  errorCatalogue,
  type FastifyInstance,
  getActiveTelemetry,
  parseRequest,
} from 'hrserve';
import packageJson from '../package.json' with { type: 'json' };
import type { EmbedConfig } from './config.js';
import { type Embedder, EmbedderClosedError } from './engine/embedder.js';
import { EmbedMetrics } from './metrics.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { embeddingsRequestSchema } from './routes/embeddings-request.js';
import { registerModels } from './routes/models.js';
import { ollamaEmbeddingRoutes } from './routes/ollama.js';

export interface EmbedApp {
  app: FastifyInstance;
  /** Hands the loaded model to the routes; until then they answer 503. */
  setEmbedder(embedder: Embedder): void;
  /** Files, batches and their metadata; opens in the background. */
  state: StateStore;
  /** The Files and Batch APIs; batches run once `start()` is called (main.ts does, with the model loaded). */
  batches: BatchApi;
}

/** The shared runtime plus embed's routes; the model is set once loaded. */
export async function buildEmbedApp(config: EmbedConfig): Promise<EmbedApp> {
  const app = await buildApp({
    config,
    version: packageJson.version,
    // Work asked for while shutting down: 503 with Retry-After, as the drain answers.
    mapError: (error) =>
      error instanceof EmbedderClosedError
        ? new ApiError(errorCatalogue.draining, error.message, { headers: { 'retry-after': '5' } })
        : undefined,
  });
  let loaded: Embedder | undefined;
  const embedder = (): Embedder => {
    if (loaded) return loaded;
    throw new ApiError(errorCatalogue.notReady, 'The model is still loading. Retry shortly.', {
      headers: { 'retry-after': '5' },
    });
  };
  const queue = new AdmissionQueue({
    concurrency: config.EMBED_CONCURRENCY,
    maxWaiting: config.EMBED_QUEUE_SIZE,
    maxWaitMs: config.EMBED_QUEUE_TIMEOUT_MS,
    retryAfterSeconds: 1,
  });
  const deps = {
    embedder,
    queue,
    metrics: new EmbedMetrics(app.metrics),
    tracer: getActiveTelemetry().tracer,
    config,
  };
  registerEmbeddings(app, deps);
  await app.register(ollamaEmbeddingRoutes, deps);
  registerModels(app, embedder, Math.floor(Date.now() / 1000));
  // The platform's health contract: `model` is the id clients name (null until it is loaded).
  app.health.addDetail('model', () => loaded?.modelIds[0] ?? null);
  app.health.addDetail('models', () => [
    loaded
      ? {
          id: loaded.modelIds[0],
          aliases: loaded.modelIds.slice(1),
          dimensions: loaded.dimensions,
          max_input_tokens: loaded.maxInputTokens,
          contexts: config.EMBED_CONTEXTS,
          loaded: true,
        }
      : // /health is open even with API keys: the file's name, not its path.
        { source: basename(config.EMBED_MODEL), loaded: false },
  ]);
  app.health.addDetail('queue', () => ({
    running: queue.active,
    waiting: queue.queued,
    rejected: queue.rejected,
  }));
  const state = new StateStore(
    {
      service: config.SERVICE_NAME,
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      logger: app.log,
    },
    app.log,
  );
  void state.start();
  const batches = await BatchApi.register(app, {
    service: config.SERVICE_NAME,
    state,
    // A line's body is checked by the route's schema; its model, per line, when it runs.
    endpoints: { '/v1/embeddings': (body) => void parseRequest(embeddingsRequestSchema, body) },
    ...batchOptionsOf(config, config.EMBED_CONCURRENCY),
    tracer: getActiveTelemetry().tracer,
  });
  app.health.addDetail('store', () => state.health());
  app.addHook('onClose', async () => {
    // Batch lines go back to their queue before the store and the model close.
    await batches.close();
    await state.close();
    await loaded?.dispose();
  });
  return {
    app,
    setEmbedder: (embedder) => {
      loaded = embedder;
    },
    state,
    batches,
  };
}
