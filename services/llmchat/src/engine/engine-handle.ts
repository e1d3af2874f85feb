import { ApiError, errorCatalogue } from 'hrserve';
import type { LlamaEngine } from './llama-engine.js';

/**
 * The engine once loaded. The service listens while the model loads (so
 * /health can say "loading"); until then inference routes answer 503 with
 * Retry-After instead of hanging.
 */
export class EngineHandle {
  private engine: LlamaEngine | undefined;

  set(engine: LlamaEngine): void {
    this.engine = engine;
  }

  get loaded(): LlamaEngine | undefined {
    return this.engine;
  }

  /** The engine, or a 503 `ApiError` while it loads. */
  readonly get = (): LlamaEngine => {
    if (this.engine) return this.engine;
    throw new ApiError(errorCatalogue.notReady, 'The model is still loading. Retry shortly.', {
      headers: { 'retry-after': '5' },
    });
  };
}
