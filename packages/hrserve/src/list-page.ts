import { z } from 'zod';
import { parseRequest } from './errors/validate.js';

/** A page of a cursor-paginated list, as a store reads it. */
export interface ListPage<T> {
  data: T[];
  firstId: string | null;
  lastId: string | null;
  hasMore: boolean;
}

/** What a list route asks its store for. */
export interface ListPageRequest {
  limit: number;
  order: 'asc' | 'desc';
  after?: string;
}

/**
 * The query of OpenAI's cursor-paginated lists (input items, conversations, files,
 * batches): `limit` 1–100 (default 20), `order` asc or desc (default desc, newest first),
 * `after` an id from a previous page. Other parameters (`include`, a list's own filters)
 * are the route's to read.
 */
const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    order: z.enum(['asc', 'desc']).default('desc'),
    after: z.string().min(1).optional(),
    include: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .loose();

export function pageRequestOf(query: unknown): ListPageRequest {
  const { limit, order, after } = parseRequest(listQuerySchema, query, 'query');
  return { limit, order, ...(after ? { after } : {}) };
}

/** A page as the API lists it. */
export function listBody<T, U = T>(
  page: ListPage<T>,
  render: (item: T) => U = (item) => item as unknown as U,
) {
  return {
    object: 'list' as const,
    data: page.data.map(render),
    first_id: page.firstId,
    last_id: page.lastId,
    has_more: page.hasMore,
  };
}
