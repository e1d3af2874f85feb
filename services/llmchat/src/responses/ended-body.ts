import type { JsonObject } from '@hrserve/store';

/**
 * A stored Response object ended by the server rather than by its generation (failed
 * after a crash, cancelled from another instance, or whose job gave up): its stored body
 * with the final status, `completed_at` and, for a failure, the error.
 */
export function endedBody(
  body: JsonObject,
  status: 'failed' | 'cancelled',
  at: number,
  error?: { code: string; message: string },
): JsonObject {
  return {
    ...body,
    status,
    completed_at: Math.floor(at / 1000),
    ...(error ? { error } : {}),
  };
}
