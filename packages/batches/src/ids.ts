import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** An id in OpenAI's style: `file-…`, `batch_…`, `batch_req_…` and 24 random hex digits. */
export function newId(prefix: 'file-' | 'batch_' | 'batch_req_'): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/** A route's `{id}` path parameter. */
export const idParams = z.object({ id: z.string().min(1) });
