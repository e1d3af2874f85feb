import { basename } from 'node:path';
import { GpuUnavailableError } from '@hrserve/models';
import { CONFIG_ERROR_EXIT_CODE, loadConfigOrExit, serve } from 'hrserve';
import { buildEmbedApp } from './app.js';
import { embedConfigSchema } from './config.js';
import { Embedder } from './engine/embedder.js';
import { loadModel, ModelLoadError } from './engine/load.js';

const config = loadConfigOrExit(embedConfigSchema);
const { app, setEmbedder, batches } = await buildEmbedApp(config);
// Listen first: /health answers "loading" (503) while the model loads.
app.health.set('loading', `loading ${basename(config.EMBED_MODEL)}`);
await serve(app, config);

try {
  const started = performance.now();
  const embedder = await Embedder.create(
    await loadModel(config, app.log, (status) => app.health.set('loading', status)),
    config,
  );
  setEmbedder(embedder);
  app.health.set('ok');
  app.log.info(
    {
      model: embedder.modelIds,
      dimensions: embedder.dimensions,
      load_ms: Math.round(performance.now() - started),
    },
    'model loaded',
  );
  // Once the store opens (it may be down now: batches wait for it, requests do not).
  batches.start().catch((error: unknown) => {
    app.log.error({ err: error }, 'batches cannot run: the files directory or the store failed');
  });
} catch (error) {
  // No model, no service: say what is wrong and how to fix it, and exit non-zero so systemd shows a failure.
  const message =
    error instanceof ModelLoadError || error instanceof GpuUnavailableError
      ? error.message
      : `Loading the model failed: ${String(error)}`;
  app.log.fatal({ err: error }, message);
  process.stderr.write(`embed: ${message}\n`);
  await app.close();
  // A GPU that is not there is a setting to change: 78, which the unit does not restart on.
  process.exit(error instanceof GpuUnavailableError ? CONFIG_ERROR_EXIT_CODE : 1);
}
