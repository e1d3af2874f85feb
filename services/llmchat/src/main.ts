import { loadConfigOrExit, serve } from 'hrserve';
import { buildLlmchatApp } from './app.js';
import { llmchatConfigSchema } from './config.js';
import { checkModelsToServe, loadDefaultModel, StartupError } from './start.js';

const config = loadConfigOrExit(llmchatConfigSchema);
const llmchat = await buildLlmchatApp(config);
const { app } = llmchat;

try {
  await checkModelsToServe(llmchat, config.LLMCHAT_MODELS_DIR);
  // Listen first: /health answers "loading" (503) while the default model loads.
  app.health.set('loading', 'starting');
  await serve(app, config);
  await loadDefaultModel(llmchat);
} catch (error) {
  // Says what is wrong and how to fix it, and exits non-zero so systemd shows a failure.
  const message = error instanceof Error ? error.message : String(error);
  app.log.fatal({ err: error instanceof StartupError ? error.cause : error }, message);
  process.stderr.write(`llmchat: ${message}\n`);
  await app.close();
  process.exit(error instanceof StartupError ? error.exitCode : 1);
}
