import type { Page, PageRequest } from '@hrserve/store';
import { parseRequest } from 'hrserve';
import { z } from 'zod';

/**
 * The query of OpenAI's cursor-paginated lists (input items, conversation items):
 * `limit` 1–100 (default 20), `order` asc or desc (default desc, newest first), `after` an
 * id from a previous page. `include` is accepted and ignored (nothing to include here).
 */
const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    order: z.enum(['asc', 'desc']).default('desc'),
    after: z.string().min(1).optional(),
    include: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .loose();

export function pageRequestOf(query: unknown): PageRequest {
  const { limit, order, after } = parseRequest(listQuerySchema, query, 'query');
  return { limit, order, ...(after ? { after } : {}) };
}

/** A page as the API lists it. */
export function listBody<T, U = T>(
  page: Page<T>,
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
