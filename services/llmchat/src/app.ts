import { BatchApi, batchOptionsOf } from '@hrserve/batches';
import { StateStore } from '@hrserve/store';
import { buildApp, type FastifyInstance, getActiveTelemetry, readMemoryLimits } from 'hrserve';
import packageJson from '../package.json' with { type: 'json' };
import type { LlmchatConfig } from './config.js';
import { apiErrorOf, llmchatApiError } from './errors.js';
import { Generator } from './generation/generator.js';
import { LlmchatMetrics } from './metrics.js';
import { memoryBudget } from './models/memory-budget.js';
import { type LoadedModel, ModelManager } from './models/model-manager.js';
import { ModelRegistry } from './models/registry.js';
import type { ModelLoader } from './models/residency.js';
import { BackgroundResponses } from './responses/background.js';
import { failOrphanedResponses } from './responses/orphans.js';
import { anthropicRoutes } from './routes/anthropic/register.js';
import { llmchatBatchEndpoints } from './routes/batch-endpoints.js';
import { ollamaRoutes } from './routes/ollama/register.js';
import { openaiRoutes } from './routes/openai.js';
import { responsesRoutes } from './routes/responses/register.js';
import { registerTokenize } from './routes/tokenize.js';

export interface LlmchatApp {
  app: FastifyInstance;
  /** Models by name, loaded on demand; `start` preloads the default one. */
  models: ModelManager;
  /** The one generation pipeline, for every protocol (and background work). */
  generator: Generator;
  /** Stored responses and conversations; opens in the background. */
  state: StateStore;
  /** The Files and Batch APIs; batches run once `start()` is called (startLlmchat does). */
  batches: BatchApi;
  /** Background responses; durable ones run once `resume()` is called (startLlmchat does). */
  background: BackgroundResponses;
}

/** What llmchat is built from besides its config; tests replace the model loader with a scripted engine. */
export interface LlmchatDeps {
  loader?: ModelLoader<LoadedModel>;
}

/**
 * The shared runtime plus llmchat's layers: models (registry, residency,
 * loader), the generator, and one route plugin per protocol. No model is
 * loaded yet (`startLlmchat` in start.ts does that).
 */
export async function buildLlmchatApp(
  config: LlmchatConfig,
  deps: LlmchatDeps = {},
): Promise<LlmchatApp> {
  const app = await buildApp({
    config,
    version: packageJson.version,
    // Domain errors become catalogued API errors here, once; each protocol plugin renders its shape.
    mapError: llmchatApiError,
  });
  // The unit's MemoryHigh/MemoryMax (drop-ins included) bound the budget models load against.
  const budget = memoryBudget(config.LLMCHAT_MEMORY_BUDGET_MB, readMemoryLimits());
  if (budget.warning) app.log.warn(budget.warning);
  if (budget.note) app.log.info(budget.note);
  const modelsConfig = { ...config, LLMCHAT_MEMORY_BUDGET_MB: budget.mb };
  const models = new ModelManager(
    new ModelRegistry(config),
    modelsConfig,
    app.log,
    deps.loader,
    budget.raise,
  );
  const generator = new Generator(
    models,
    new LlmchatMetrics(
      app.metrics,
      () => models.queueTotals(),
      () => models.modelStates(),
    ),
    getActiveTelemetry().tracer,
    {
      generationTimeoutMs: config.LLMCHAT_GENERATION_TIMEOUT_MS,
      contextOverflow: config.LLMCHAT_CONTEXT_OVERFLOW,
      errorType: (error) => apiErrorOf(error).code,
    },
  );
  const state = new StateStore(
    {
      service: config.SERVICE_NAME,
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      retention: { ttlMs: config.RESPONSES_TTL, maxResponses: config.RESPONSES_MAX },
      logger: app.log,
    },
    app.log,
    async (store) => {
      const failed = await failOrphanedResponses(store);
      if (failed > 0) {
        app.log.warn(
          { responses: failed },
          `${failed} stored responses were still running when the service last stopped: marked failed`,
        );
      }
    },
  );
  void state.start();
  const background = new BackgroundResponses(generator, app.log, state, {
    service: config.SERVICE_NAME,
    concurrency: config.LLMCHAT_PARALLEL,
    leaseMs: config.BATCH_LEASE,
  });
  const startedAt = Math.floor(Date.now() / 1000);
  await app.register(openaiRoutes, { generator, models, startedAt });
  await app.register(responsesRoutes, { generator, state, background });
  await app.register(ollamaRoutes, { generator, models });
  await app.register(anthropicRoutes, { generator, models });
  registerTokenize(app, models);
  const batches = await BatchApi.register(app, {
    service: config.SERVICE_NAME,
    state,
    endpoints: llmchatBatchEndpoints,
    // Every sequence by default: the scheduler still leaves one free for interactive requests.
    ...batchOptionsOf(config, config.LLMCHAT_PARALLEL),
    tracer: getActiveTelemetry().tracer,
  });

  // The platform's health contract: `model` is the default model's id (null without one).
  app.health.addDetail('model', () => models.registry.defaultModel?.name ?? null);
  app.health.addDetail('models', () =>
    models.loaded().map(({ engine, users, keepAliveMs, lastUsedAt }) => {
      // /health is open even with API keys: no filesystem paths (the startup log has them).
      const { path: _path, ...info } = engine.info;
      return {
        ...info,
        requests: users,
        keep_alive_ms: Number.isFinite(keepAliveMs) ? keepAliveMs : -1,
        last_used_at: new Date(lastUsedAt).toISOString(),
      };
    }),
  );
  app.health.addDetail('queue', () => models.queueTotals());
  app.health.addDetail('store', () => state.health());
  app.addHook('onClose', async () => {
    // Batch lines go back to their queue, background responses stop (stored as failed),
    // before the store and the models close.
    await batches.close();
    await background.close();
    await state.close();
    await models.close();
  });
  return { app, models, generator, state, batches, background };
}
