import { UnknownCursorError } from './errors.js';

/**
 * Cursor pagination as the OpenAI list endpoints do it (`after` an item's id, `limit`,
 * `order`). Defaults belong to the route: the store takes every field explicitly.
 */
export interface PageRequest {
  /** The id of the item the page starts after, in `order`; absent for the first page. */
  after?: string | undefined;
  /** Items per page, 1 to MAX_PAGE_SIZE. */
  limit: number;
  /** `asc`: oldest first; `desc`: newest first. */
  order: 'asc' | 'desc';
}

export interface Page<T> {
  data: T[];
  /** The first and last item's id, or null on an empty page (the API's first_id, last_id). */
  firstId: string | null;
  lastId: string | null;
  hasMore: boolean;
}

/** A bound on what one call may read into memory; the API's own limit is 100. */
export const MAX_PAGE_SIZE = 1_000;

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new RangeError(`page limit must be an integer from 1 to ${MAX_PAGE_SIZE}, not ${limit}`);
  }
  return limit;
}

/** Makes a page from rows fetched with `limit + 1`, the extra row telling whether more follow. */
export function toPage<T>(rows: T[], limit: number, idOf: (item: T) => string): Page<T> {
  const data = rows.slice(0, limit);
  const first = data[0];
  const last = data.at(-1);
  return {
    data,
    firstId: first === undefined ? null : idOf(first),
    lastId: last === undefined ? null : idOf(last),
    hasMore: rows.length > limit,
  };
}

/** Where a page starts: past the `seq` of the row `after` named, in the page's order. */
export interface SeqCursor {
  op: '>' | '<';
  seq: number;
}

/**
 * One page of rows ordered by their `seq`, the store's one way of paging: `read` fetches
 * `limit + 1` rows from the start or past a cursor, `seqOf` finds the seq of the row an
 * `after` id names (UnknownCursorError when none), `toItem` makes each row an item.
 */
export async function pageBySeq<Row, T>(
  page: PageRequest,
  read: (limit: number, cursor: SeqCursor | undefined) => Promise<Row[]>,
  seqOf: (id: string) => Promise<number | undefined>,
  toItem: (row: Row) => T,
  idOf: (item: T) => string,
): Promise<Page<T>> {
  const limit = checkLimit(page.limit);
  let cursor: SeqCursor | undefined;
  if (page.after !== undefined) {
    const seq = await seqOf(page.after);
    if (seq === undefined) throw new UnknownCursorError(page.after);
    cursor = { op: page.order === 'asc' ? '>' : '<', seq };
  }
  const rows = await read(limit + 1, cursor);
  return toPage(rows.map(toItem), limit, idOf);
}
