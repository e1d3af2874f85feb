import { buildApp, type FastifyInstance, getActiveTelemetry } from 'hrserve';
import packageJson from '../package.json' with { type: 'json' };
import type { LlmchatConfig } from './config.js';
import { llmchatApiError } from './errors.js';
import { LlmchatMetrics } from './metrics.js';
import { ModelManager } from './models/model-manager.js';
import { ModelRegistry } from './models/registry.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerCompletions } from './routes/completions.js';
import { registerModels } from './routes/models.js';
import { registerOllama } from './routes/ollama/register.js';
import { registerTokenize } from './routes/tokenize.js';

export interface LlmchatApp {
  app: FastifyInstance;
  /** Models by name, loaded on demand; main preloads the default one. */
  models: ModelManager;
}

/** The shared runtime plus llmchat's routes (OpenAI and Ollama); no model is loaded yet. */
export async function buildLlmchatApp(config: LlmchatConfig): Promise<LlmchatApp> {
  const app = await buildApp({
    config,
    version: packageJson.version,
    // OpenAI's error shape; the Ollama routes render theirs (routes/ollama/register.ts).
    mapError: llmchatApiError,
  });
  const models = new ModelManager(new ModelRegistry(config), config, app.log);
  const deps = {
    models,
    metrics: new LlmchatMetrics(app.metrics, () => models.queueTotals()),
    generationTimeoutMs: config.LLMCHAT_GENERATION_TIMEOUT_MS,
    tracer: getActiveTelemetry().tracer,
  };
  registerChatCompletions(app, deps, config);
  registerCompletions(app, deps);
  registerModels(app, models, Math.floor(Date.now() / 1000));
  registerTokenize(app, models);
  await app.register(registerOllama, { deps, config });

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
  app.health.addDetail('rss_bytes', () => process.memoryUsage.rss());
  app.addHook('onClose', () => models.close());
  return { app, models };
}
