import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Portable types only, so SQLite and Postgres behave the same:
 * text, integer and bigint (INTEGER affinity on SQLite). JSON is text parsed by the
 * repositories (no jsonb: SQLite lacks it, and the store never queries inside it); times are
 * epoch milliseconds; nothing is boolean (Postgres answers true/false, SQLite 1/0).
 * Lists page by an integer sequence, never by a text id, whose order would follow the
 * database's collation.
 */
export interface StoreSchema {
  responses: ResponsesTable;
  response_input_items: ResponseInputItemsTable;
  conversations: ConversationsTable;
  conversation_items: ConversationItemsTable;
}

export interface ResponsesTable {
  /** Insertion order, for listing and pruning; never reused (AUTOINCREMENT / identity). */
  seq: Generated<number>;
  id: string;
  status: string;
  model: string;
  created_at: number;
  completed_at: number | null;
  /** Not a foreign key: the previous response may be pruned or deleted before this one. */
  previous_response_id: string | null;
  /** Not a foreign key: deleting a conversation keeps the responses made in it. */
  conversation_id: string | null;
  /** The Response object, as JSON, as GET /v1/responses/{id} answers it. */
  body: string;
}

export interface ResponseInputItemsTable {
  response_id: string;
  /** 0, 1, 2… in the order the request gave them. */
  position: number;
  item_id: string;
  body: string;
}

export interface ConversationsTable {
  seq: Generated<number>;
  id: string;
  created_at: number;
  /** JSON: an object of strings, or null. */
  metadata: string;
  /**
   * The last item sequence handed out. Appending bumps it with one UPDATE, which also locks
   * the conversation's row on Postgres: appends to one conversation commit in sequence order,
   * so a reader paging by sequence never skips an item committed late.
   */
  last_item_seq: Generated<number>;
}

export interface ConversationItemsTable {
  conversation_id: string;
  seq: number;
  item_id: string;
  created_at: number;
  body: string;
}
