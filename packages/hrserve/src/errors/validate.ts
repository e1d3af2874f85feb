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

type Issue = z.core.$ZodIssue;

/** A union branch that does not apply to the value: its type or its discriminator differ. */
function branchMissed(issues: readonly Issue[]): boolean {
  return issues.every(
    (issue) =>
      (issue.code === 'invalid_type' && issue.path.length === 0) ||
      (issue.code === 'invalid_union' &&
        issue.errors.length === 0 &&
        'note' in issue &&
        issue.note === 'No matching discriminator'),
  );
}

/**
 * A union's failure as the failure of the one branch that applies to the value (an array
 * for `string | array`, the message schema for an item with a role), so the client sees
 * `input.0.content: expected string` rather than `input: Invalid input`. With no such
 * branch, the union's own message stays; when every branch wanted another type, they are
 * named together.
 */
export function unwrapUnions(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const applying = issue.errors.filter((branch) => !branchMissed(branch));
    if (applying.length === 1) {
      return unwrapUnions(
        (applying[0] ?? []).map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })),
      );
    }
    const expected = issue.errors.flatMap((branch) =>
      branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0
        ? [branch[0].expected]
        : [],
    );
    if (applying.length === 0 && expected.length === issue.errors.length) {
      return [{ ...issue, message: `expected ${[...new Set(expected)].join(' or ')}` }];
    }
    return [issue];
  });
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
  const issues = unwrapUnions(result.error.issues);
  const first = issues[0];
  throw new ApiError(
    errorCatalogue.invalidRequest,
    `Invalid ${where}: ${describeIssues(issues, where)}.`,
    { param: first && first.path.length > 0 ? issuePath(first.path) : null },
  );
}
