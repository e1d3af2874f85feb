import { loadConfigOrExit, serve } from 'hrserve';
import { buildLlmchatApp } from './app.js';
import { llmchatConfigSchema } from './config.js';

const config = loadConfigOrExit(llmchatConfigSchema);
const { app, models } = await buildLlmchatApp(config);

/** Says what is wrong and how to fix it, and exits non-zero so systemd shows a failure. */
async function fail(message: string, code: number, error?: unknown): Promise<never> {
  app.log.fatal({ err: error }, message);
  process.stderr.write(`llmchat: ${message}\n`);
  await app.close();
  process.exit(code);
}

const configured = await models.registry.list();
if (configured.length === 0) {
  await fail(
    `No models to serve. Set LLMCHAT_MODEL to a .gguf file or hf: URI, list name=source pairs in LLMCHAT_MODELS, or put .gguf files in LLMCHAT_MODELS_DIR (${config.LLMCHAT_MODELS_DIR}).`,
    78,
  );
}
const preload = models.registry.defaultModel;
// Listen first: /health answers "loading" (503) while the default model loads.
if (preload) app.health.set('loading', `loading ${preload.name}`);
await serve(app, config);

if (!preload) app.health.set('ok');
else {
  try {
    (await models.acquireEntry(preload)).release();
    app.health.set('ok');
  } catch (error) {
    // The default model is the service's reason to run: without it, stop.
    await fail(
      error instanceof Error && 'cause' in error && error.cause instanceof Error
        ? error.cause.message
        : String(error instanceof Error ? error.message : error),
      1,
      error,
    );
  }
}
