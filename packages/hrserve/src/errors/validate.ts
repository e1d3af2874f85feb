import type { z } from 'zod';
import { ApiError, errorCatalogue } from './catalogue.js';

/** Dotted path of a zod issue, e.g. `messages.0.role`; what OpenAI puts in `error.param`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * Describes every issue in one line each, naming the field, so a client sees
 * all of what is wrong with its request at once rather than one per retry.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], where: string): string {
  return issues
    .map((issue) => {
      const path = issuePath(issue.path);
      return path === '' ? `${where}: ${issue.message}` : `'${path}': ${issue.message}`;
    })
    .join('; ');
}

/**
 * Parses `value` with `schema`, throwing a 400 `ApiError` that names the first
 * offending field in `param` and lists every problem in the message.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where = 'request body',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw new ApiError(
    errorCatalogue.invalidRequest,
    `Invalid ${where}: ${describeIssues(result.error.issues, where)}.`,
    { param: first && first.path.length > 0 ? issuePath(first.path) : null },
  );
}
