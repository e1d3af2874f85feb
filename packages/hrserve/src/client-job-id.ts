/**
 * The platform's rule for `client_job_id`, the caller's own id for a unit of
 * work (a batch job, a conversation…), used to find its requests in logs and
 * traces: 1 to 128 characters, each a letter, digit, `.`, `_`, `:` or `-`.
 * The same rule bounds a client-sent `x-request-id`.
 */
export const CLIENT_JOB_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const CLIENT_JOB_ID_RULE = '1-128 characters, each a letter, digit, ".", "_", ":" or "-"';

export const CLIENT_JOB_ID_HEADER = 'x-client-job-id';
export const CLIENT_JOB_ID_QUERY = 'client_job_id';

/** The span attribute carrying a valid client_job_id. */
export const CLIENT_JOB_ID_ATTRIBUTE = 'client_job_id';

export type ClientJobIdResult =
  | { kind: 'absent' }
  | { kind: 'valid'; value: string }
  | { kind: 'invalid'; source: 'header' | 'query'; reason: string };

function queryValues(url: string): string[] {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return [];
  return new URLSearchParams(url.slice(queryStart + 1)).getAll(CLIENT_JOB_ID_QUERY);
}

/**
 * Reads the client_job_id from the query parameter and/or the header of a raw
 * request. Both may be given, but then they must agree.
 */
export function readClientJobId(
  url: string,
  headers: Record<string, string | string[] | undefined>,
): ClientJobIdResult {
  const fromQuery = queryValues(url);
  const rawHeader = headers[CLIENT_JOB_ID_HEADER];
  const fromHeader =
    rawHeader === undefined ? [] : Array.isArray(rawHeader) ? rawHeader : [rawHeader];

  if (fromQuery.length > 1)
    return { kind: 'invalid', source: 'query', reason: 'given more than once' };
  if (fromHeader.length > 1)
    return { kind: 'invalid', source: 'header', reason: 'given more than once' };
  const query = fromQuery[0];
  const header = fromHeader[0];
  if (query !== undefined && !CLIENT_JOB_ID_PATTERN.test(query)) {
    return { kind: 'invalid', source: 'query', reason: `must be ${CLIENT_JOB_ID_RULE}` };
  }
  if (header !== undefined && !CLIENT_JOB_ID_PATTERN.test(header)) {
    return { kind: 'invalid', source: 'header', reason: `must be ${CLIENT_JOB_ID_RULE}` };
  }
  if (query !== undefined && header !== undefined && query !== header) {
    return {
      kind: 'invalid',
      source: 'header',
      reason: 'differs from the client_job_id query parameter',
    };
  }
  const value = query ?? header;
  return value === undefined ? { kind: 'absent' } : { kind: 'valid', value };
}

/** The valid client_job_id of a raw request, or undefined (absent or invalid). */
export function validClientJobId(
  url: string,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const result = readClientJobId(url, headers);
  return result.kind === 'valid' ? result.value : undefined;
}
