import { loadConfigOrExit, serve } from 'hrserve';
import { buildLlmchatApp } from './app.js';
import { llmchatConfigSchema } from './config.js';
import { EngineHandle } from './engine/engine-handle.js';
import { LlamaEngine } from './engine/llama-engine.js';
import { ModelLoadError } from './engine/load-model.js';

const config = loadConfigOrExit(llmchatConfigSchema);
const engines = new EngineHandle();
const app = await buildLlmchatApp(config, engines);
// Listen first: /health answers "loading" (503) while the model loads.
app.health.set('loading', `loading ${config.LLMCHAT_MODEL}`);
await serve(app, config);

try {
  const started = performance.now();
  engines.set(await LlamaEngine.create(config, app.log));
  app.health.set('ok');
  app.log.info(
    { model: engines.loaded?.info, load_ms: Math.round(performance.now() - started) },
    'model loaded',
  );
} catch (error) {
  // No model, no service: say what is wrong and how to fix it, and exit non-zero so systemd shows a failure.
  const message =
    error instanceof ModelLoadError ? error.message : `Loading the model failed: ${String(error)}`;
  app.log.fatal({ err: error }, message);
  process.stderr.write(`llmchat: ${message}\n`);
  await app.close();
  process.exit(1);
}
