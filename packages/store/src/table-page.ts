import type { Kysely, Selectable } from 'kysely';
import { type Page, type PageRequest, pageBySeq } from './pagination.js';
import type { StoreSchema } from './schema.js';

/** The tables listed whole by insertion order: each row has an `id` and a `seq`. */
type ListedTable = 'responses' | 'conversations' | 'files' | 'batches';

/** A page of a whole table (every response, every conversation), by insertion order. */
export function pageOfTable<T extends ListedTable, Item extends { id: string }>(
  db: Kysely<StoreSchema>,
  table: T,
  page: PageRequest,
  toItem: (row: Selectable<StoreSchema[T]>) => Item,
  /** Only the rows whose column has this value (files of one purpose). */
  only?: { column: 'purpose'; value: string },
): Promise<Page<Item>> {
  // Kysely cannot type a table chosen at run time: both are seen as one with their two
  // shared columns (the name only types the query; the SQL names `table`).
  const listed = db as unknown as Kysely<{ listed: { id: string; seq: number; purpose: string } }>;
  const from = table as unknown as 'listed';
  return pageBySeq(
    page,
    (limit, cursor) => {
      let query = listed.selectFrom(from).selectAll().orderBy('seq', page.order).limit(limit);
      if (only) query = query.where(only.column, '=', only.value);
      const rows = (cursor ? query.where('seq', cursor.op, cursor.seq) : query).execute();
      return rows as unknown as Promise<Selectable<StoreSchema[T]>[]>;
    },
    async (id) =>
      (await listed.selectFrom(from).select('seq').where('id', '=', id).executeTakeFirst())?.seq,
    toItem,
    (item) => item.id,
  );
}
