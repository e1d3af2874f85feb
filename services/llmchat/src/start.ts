import { GpuUnavailableError } from '@hrserve/models';
import { CONFIG_ERROR_EXIT_CODE } from 'hrserve';
import type { LlmchatApp } from './app.js';

/** Why llmchat cannot serve, for the operator; `exitCode` as systemd should see it. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/*
 * How main.ts and the tests' server start llmchat once its app is built:
 * `checkModelsToServe`, listen, then `loadDefaultModel` (meanwhile `/health`
 * answers "loading", 503). Each throws a `StartupError` when the service
 * cannot serve.
 */

/** With no model configured there is nothing to serve: refuse before listening (exit 78, config). */
export async function checkModelsToServe({ models }: LlmchatApp, modelsDir: string): Promise<void> {
  if ((await models.registry.list()).length > 0) return;
  throw new StartupError(
    `No models to serve. Set LLMCHAT_MODEL to a .gguf file or hf: URI, list name=source pairs in LLMCHAT_MODELS, or put .gguf files in LLMCHAT_MODELS_DIR (${modelsDir}).`,
    78,
  );
}

/** Loads the default model, if there is one, says ok, and begins running batches and background responses. */
export async function loadDefaultModel({
  app,
  models,
  batches,
  background,
}: LlmchatApp): Promise<void> {
  const preload = models.registry.defaultModel;
  if (preload) {
    app.health.set('loading', `loading ${preload.name}`);
    // Downloading 40%, waiting for the network, loading weights: on /health and systemd's STATUS=.
    const unsubscribe = models.onLoadStatus((entry, status) => {
      if (entry.name === preload.name) app.health.set('loading', status);
    });
    try {
      // Not a request's bound (LLMCHAT_LOAD_TIMEOUT_MS): a first download may take long; under
      // systemd the start is bounded by STARTUP_TIMEOUT_MS instead.
      (await models.acquireEntry(preload, { timeoutMs: Number.POSITIVE_INFINITY })).release();
    } catch (error) {
      // The default model is the service's reason to run: without it, stop.
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      // A GPU that is not there is a setting to change: 78, which the unit does not restart on.
      const exitCode = reason instanceof GpuUnavailableError ? CONFIG_ERROR_EXIT_CODE : 1;
      throw new StartupError(reason instanceof Error ? reason.message : String(reason), exitCode, {
        cause: error,
      });
    } finally {
      unsubscribe();
    }
  }
  app.health.set('ok');
  // Once the store opens (it may be down now: batches wait for it, requests do not).
  batches.start().catch((error: unknown) => {
    app.log.error({ err: error }, 'batches cannot run: the files directory or the store failed');
  });
  background.resume().catch((error: unknown) => {
    app.log.error({ err: error }, 'background responses cannot run: the store failed');
  });
}
