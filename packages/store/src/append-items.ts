import type { Kysely } from 'kysely';
import { type ItemInput, toJson } from './items.js';
import type { StoreSchema } from './schema.js';

/**
 * Rows per INSERT: well under SQLite's and Postgres' limits on bound parameters
 * (32766 and 65535) at five columns a row.
 */
const ROWS_PER_INSERT = 500;

/**
 * Appends items to a conversation, after its last one; returns false when the conversation
 * does not exist. Call it inside a transaction: the UPDATE that hands out the sequence
 * numbers holds the conversation's row lock on Postgres until commit, so two appends to one
 * conversation commit in sequence order (SQLite's BEGIN IMMEDIATE already serializes them).
 */
export async function appendConversationItems(
  trx: Kysely<StoreSchema>,
  conversationId: string,
  items: readonly ItemInput[],
  createdAt: number,
): Promise<boolean> {
  if (items.length === 0) {
    const found = await trx
      .selectFrom('conversations')
      .select('id')
      .where('id', '=', conversationId)
      .executeTakeFirst();
    return found !== undefined;
  }
  const bumped = await trx
    .updateTable('conversations')
    .set((eb) => ({ last_item_seq: eb('last_item_seq', '+', items.length) }))
    .where('id', '=', conversationId)
    .returning('last_item_seq')
    .executeTakeFirst();
  if (!bumped) return false;
  const firstSeq = bumped.last_item_seq - items.length + 1;
  const rows = items.map((item, index) => ({
    conversation_id: conversationId,
    seq: firstSeq + index,
    item_id: item.id,
    created_at: createdAt,
    body: toJson(item),
  }));
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    await trx
      .insertInto('conversation_items')
      .values(rows.slice(start, start + ROWS_PER_INSERT))
      .execute();
  }
  return true;
}

/** Inserts a response's input items, numbered in the order given. */
export async function insertInputItems(
  trx: Kysely<StoreSchema>,
  responseId: string,
  items: readonly ItemInput[],
): Promise<void> {
  const rows = items.map((item, position) => ({
    response_id: responseId,
    position,
    item_id: item.id,
    body: toJson(item),
  }));
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    await trx
      .insertInto('response_input_items')
      .values(rows.slice(start, start + ROWS_PER_INSERT))
      .execute();
  }
}
