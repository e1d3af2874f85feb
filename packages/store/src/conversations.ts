import type { Kysely, Selectable } from 'kysely';
import { appendConversationItems } from './append-items.js';
import { guard } from './guard.js';
import { fromJson, type ItemInput, type StoredItem, toJson } from './items.js';
import { checkLimit, type Page, type PageRequest, pageBySeq } from './pagination.js';
import type { ConversationsTable, StoreSchema } from './schema.js';
import { pageOfTable } from './table-page.js';

/** The Conversations API's metadata: up to 16 string pairs (the route checks the limits). */
export type Metadata = Readonly<Record<string, string>> | null;

export interface StoredConversation {
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
  metadata: Metadata;
}

export interface NewConversation {
  id: string;
  createdAt: number;
  metadata: Metadata;
  /** Its first items, stored in the same transaction. */
  items: readonly ItemInput[];
}

/** Conversations and their items, in the order they were appended. */
export class ConversationsRepository {
  readonly #db: Kysely<StoreSchema>;

  constructor(db: Kysely<StoreSchema>) {
    this.#db = db;
  }

  /** Stores a conversation with its first items; `StoreConflictError` for an id already stored. */
  create(conversation: NewConversation): Promise<StoredConversation> {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx
          .insertInto('conversations')
          .values({
            id: conversation.id,
            created_at: conversation.createdAt,
            metadata: toJson(conversation.metadata),
          })
          .execute();
        await appendConversationItems(
          trx,
          conversation.id,
          conversation.items,
          conversation.createdAt,
        );
        return {
          id: conversation.id,
          createdAt: conversation.createdAt,
          metadata: conversation.metadata,
        };
      }),
    );
  }

  get(id: string): Promise<StoredConversation | undefined> {
    return guard(async () => {
      const row = await this.#db
        .selectFrom('conversations')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toStoredConversation(row);
    });
  }

  /** Replaces the metadata; undefined when the conversation is not stored. */
  updateMetadata(id: string, metadata: Metadata): Promise<StoredConversation | undefined> {
    return guard(async () => {
      const row = await this.#db
        .updateTable('conversations')
        .set({ metadata: toJson(metadata) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toStoredConversation(row);
    });
  }

  /** Deletes a conversation and its items (not the responses made in it); false when none. */
  delete(id: string): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db
        .deleteFrom('conversations')
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /** Every conversation, by creation order. */
  list(page: PageRequest): Promise<Page<StoredConversation>> {
    return guard(() => pageOfTable(this.#db, 'conversations', page, toStoredConversation));
  }

  /**
   * Appends items after the conversation's last one, in one transaction; false when the
   * conversation is not stored, `StoreConflictError` when an item id is already in it.
   */
  appendItems(conversationId: string, items: readonly ItemInput[], at: number): Promise<boolean> {
    return guard(() =>
      this.#db
        .transaction()
        .execute((trx) => appendConversationItems(trx, conversationId, items, at)),
    );
  }

  /** A conversation's items; undefined when the conversation is not stored. */
  listItems(conversationId: string, page: PageRequest): Promise<Page<StoredItem> | undefined> {
    return guard(async () => {
      checkLimit(page.limit);
      const conversation = await this.#db
        .selectFrom('conversations')
        .select('id')
        .where('id', '=', conversationId)
        .executeTakeFirst();
      if (!conversation) return undefined;
      return pageBySeq(
        page,
        (limit, cursor) => {
          const query = this.#db
            .selectFrom('conversation_items')
            .select('body')
            .where('conversation_id', '=', conversationId)
            .orderBy('seq', page.order)
            .limit(limit);
          return (cursor ? query.where('seq', cursor.op, cursor.seq) : query).execute();
        },
        async (id) =>
          (
            await this.#db
              .selectFrom('conversation_items')
              .select('seq')
              .where('conversation_id', '=', conversationId)
              .where('item_id', '=', id)
              .executeTakeFirst()
          )?.seq,
        (row) => fromJson<StoredItem>(row.body),
        (item) => item.id,
      );
    });
  }

  getItem(conversationId: string, itemId: string): Promise<StoredItem | undefined> {
    return guard(async () => {
      const row = await this.#db
        .selectFrom('conversation_items')
        .select('body')
        .where('conversation_id', '=', conversationId)
        .where('item_id', '=', itemId)
        .executeTakeFirst();
      return row && fromJson<StoredItem>(row.body);
    });
  }

  /** Deletes one item; false when the conversation has no such item. */
  deleteItem(conversationId: string, itemId: string): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db
        .deleteFrom('conversation_items')
        .where('conversation_id', '=', conversationId)
        .where('item_id', '=', itemId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }
}

function toStoredConversation(row: Selectable<ConversationsTable>): StoredConversation {
  return {
    id: row.id,
    createdAt: row.created_at,
    metadata: fromJson<Metadata>(row.metadata),
  };
}
