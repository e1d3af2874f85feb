import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `interactive`: someone is waiting for the answer (an HTTP request).
 * `batch`: background work (a batch's line): it gets what interactive work leaves free.
 */
export type WorkPriority = 'interactive' | 'batch';

/**
 * The header that marks a request made by this process to itself as batch work. A batch
 * runner sends each line through the service's own route (`app.inject`), so the line is
 * parsed, validated and answered exactly as a client's request would be; this header is
 * how the route learns that nobody waits for it. Its value is a random token made at
 * start and never sent anywhere: a client cannot forge it.
 */
export const BATCH_WORK_HEADER = 'x-hrserve-batch-work';

const TOKEN = randomBytes(32);

/** The headers an in-process request (`app.inject`) carries to be run as batch work. */
export function batchWorkHeaders(): Record<string, string> {
  return { [BATCH_WORK_HEADER]: TOKEN.toString('hex') };
}

/** Whether a request's header value is this process's batch-work token. */
export function isBatchWorkToken(value: unknown): boolean {
  // Hex of the right length only: Buffer.from stops at the first non-hex character.
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) return false;
  return timingSafeEqual(Buffer.from(value, 'hex'), TOKEN);
}
