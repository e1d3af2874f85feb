/*
 * What finding and keeping models loaded can fail with, as domain errors: the HTTP
 * layer maps them to the catalogue in one place (errors.ts), so this layer knows no
 * status codes.
 */

/** A name no configured model answers to; the message lists those that exist. */
export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
}

/** The model can never fit the memory budget; the message says what to change. */
export class ModelTooLargeError extends Error {
  override readonly name = 'ModelTooLargeError';
}

/** A request waited `ms` for its model to load; the load itself goes on. */
export class ModelLoadTimeoutError extends Error {
  override readonly name = 'ModelLoadTimeoutError';
  constructor(
    readonly model: string,
    readonly ms: number,
  ) {
    super(`Model '${model}' is still loading after ${ms} ms. Retry shortly.`);
  }
}

/** Every loaded model kept serving requests, so no room was freed in time. */
export class NoRoomError extends Error {
  override readonly name = 'NoRoomError';
  constructor(
    readonly model: string,
    readonly maxLoaded: number,
  ) {
    super(
      `No room to load '${model}': every loaded model is serving requests (at most ${maxLoaded} loaded at once). Retry shortly.`,
    );
  }
}

/** The model could not be loaded (missing, corrupt, out of memory): the log says why. */
export class ModelLoadFailedError extends Error {
  override readonly name = 'ModelLoadFailedError';
  constructor(
    readonly model: string,
    /** The setting that names it, for the client's message (never a path). */
    readonly origin: string,
    options: { cause: unknown },
  ) {
    super(`Model '${model}' could not be loaded; the server's log says why (${origin}).`, options);
  }
}

/** The service is shutting down: no model is loaded or lent any more. */
export class ModelsClosedError extends Error {
  override readonly name = 'ModelsClosedError';
  constructor() {
    super('The server is shutting down and loads no models. Retry on another instance.');
  }
}
