import { randomBytes } from 'node:crypto';

/** An id in OpenAI's style: `file-…`, `batch_…`, `batch_req_…` and 24 random hex digits. */
export function newId(prefix: 'file-' | 'batch_' | 'batch_req_'): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}
