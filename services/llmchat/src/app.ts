import { AdmissionQueue, buildApp, type FastifyInstance, getActiveTelemetry } from 'hrserve';
import packageJson from '../package.json' with { type: 'json' };
import type { LlmchatConfig } from './config.js';
import type { EngineHandle } from './engine/engine-handle.js';
import { LlmchatMetrics } from './metrics.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerCompletions } from './routes/completions.js';
import { registerModels } from './routes/models.js';
import { registerTokenize } from './routes/tokenize.js';

/** Seconds a client turned away (queue full) is told to wait. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The shared runtime plus llmchat's routes. The engine may still be loading:
 * routes take it from the handle per request and answer 503 until it is set.
 */
export async function buildLlmchatApp(
  config: LlmchatConfig,
  engines: EngineHandle,
): Promise<FastifyInstance> {
  const app = await buildApp({ config, version: packageJson.version });
  const queue = new AdmissionQueue({
    concurrency: config.LLMCHAT_PARALLEL,
    maxWaiting: config.LLMCHAT_QUEUE_SIZE,
    maxWaitMs: config.LLMCHAT_QUEUE_TIMEOUT_MS,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
  const deps = {
    engine: engines.get,
    queue,
    metrics: new LlmchatMetrics(app.metrics, queue),
    generationTimeoutMs: config.LLMCHAT_GENERATION_TIMEOUT_MS,
    tracer: getActiveTelemetry().tracer,
  };
  registerChatCompletions(app, deps, config);
  registerCompletions(app, deps);
  registerModels(app, engines.get, Math.floor(Date.now() / 1000));
  registerTokenize(app, engines.get);

  app.health.addDetail('model', () => {
    const engine = engines.loaded;
    if (!engine) return { source: config.LLMCHAT_MODEL, loaded: false };
    return { ...engine.info, loaded: true };
  });
  app.health.addDetail('queue', () => ({
    running: queue.active,
    waiting: queue.queued,
    rejected: queue.rejected,
  }));
  app.health.addDetail('rss_bytes', () => process.memoryUsage.rss());
  app.addHook('onClose', async () => {
    await engines.loaded?.dispose();
  });
  return app;
}
