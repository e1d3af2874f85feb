/*
 * The stateful routes' domain errors; errors.ts maps each to its API error, once.
 */

/** A stored response the request names is not there (never was, deleted, or expired). */
export class ResponseNotFoundError extends Error {
  override readonly name = 'ResponseNotFoundError';

  /** `param`: the request field that named it (`previous_response_id`), none for a path. */
  constructor(
    readonly id: string,
    readonly param?: string,
  ) {
    super(
      param
        ? `No stored response '${id}' for ${param}: it was never stored (store: false), was deleted, or expired (RESPONSES_TTL). Send the earlier turns as input items instead.`
        : `No stored response '${id}': it was never stored (store: false), was deleted, or expired (RESPONSES_TTL).`,
    );
  }
}

/** A `previous_response_id` whose response cannot be continued (still running, failed). */
export class ResponseNotContinuableError extends Error {
  override readonly name = 'ResponseNotContinuableError';

  constructor(
    readonly id: string,
    readonly status: string,
  ) {
    super(
      `Response '${id}' is ${status}: only a completed (or incomplete) response can be continued with previous_response_id.${status === 'queued' || status === 'in_progress' ? ' Wait for it to finish (GET /v1/responses/{id}).' : ''}`,
    );
  }
}

export class ConversationNotFoundError extends Error {
  override readonly name = 'ConversationNotFoundError';

  constructor(
    readonly id: string,
    readonly param?: string,
  ) {
    super(`No conversation '${id}': it was never created or was deleted.`);
  }
}

export class ConversationItemNotFoundError extends Error {
  override readonly name = 'ConversationItemNotFoundError';

  constructor(
    readonly conversationId: string,
    readonly itemId: string,
  ) {
    super(`Conversation '${conversationId}' has no item '${itemId}'.`);
  }
}

/** Cancel of a response that is not running in the background. */
export class NotCancellableError extends Error {
  override readonly name = 'NotCancellableError';

  constructor(
    readonly id: string,
    reason: string,
  ) {
    super(`Response '${id}' cannot be cancelled: ${reason}.`);
  }
}
