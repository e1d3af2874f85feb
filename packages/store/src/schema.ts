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
  files: FilesTable;
  batches: BatchesTable;
  jobs: JobsTable;
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

export interface FilesTable {
  seq: Generated<number>;
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  /** JSONL lines (0 for files that are not JSONL). */
  lines: number;
  created_at: number;
  expires_at: number | null;
  /** The file's name inside the service's files directory. */
  stored_name: string;
}

export interface BatchesTable {
  seq: Generated<number>;
  id: string;
  /** The Batch API's status; `body.status` says the same. */
  status: string;
  created_at: number;
  /** Epoch milliseconds after which an unfinished batch expires (its completion window). */
  expires_at: number;
  /** Who holds the batch's current step (validating, finalizing, cancelling), until when. */
  lease_owner: string | null;
  lease_until: number | null;
  /** W3C traceparent of the batch's span, which its lines' spans link to (null without telemetry). */
  trace_parent: string | null;
  /** The Batch object as JSON, without the live request counts of a running batch. */
  body: string;
}

/**
 * Units of background work, claimed with leases: a worker that stops (crash, kill -9) stops
 * renewing its lease, and another claims the job when it runs out.
 */
export interface JobsTable {
  seq: Generated<number>;
  id: string;
  /** Which runner takes it (`batch`). */
  queue: string;
  /** What it belongs to (a batch id): counted, cancelled and read back together. */
  group_id: string;
  /** Its place in the group (a batch line's index). */
  position: number;
  status: string;
  payload: string;
  /** What the job produced, as JSON, once finished. */
  result: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  /** Claims so far: a job whose workers keep dying is failed, not claimed for ever. */
  attempts: Generated<number>;
  created_at: number;
  finished_at: number | null;
}
