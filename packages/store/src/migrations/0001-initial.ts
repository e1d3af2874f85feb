import type { Kysely } from 'kysely';
import type { Backend } from '../backend.js';
import { withSequence } from './sequence-column.js';

/**
 * Responses with their input items, conversations with their items. Items go when their
 * response or conversation goes (ON DELETE CASCADE, foreign keys on in both backends).
 */
export async function up(db: Kysely<unknown>, backend: Backend): Promise<void> {
  await db.schema
    .createTable('responses')
    .$call((table) => withSequence(table, backend))
    .addColumn('id', 'text', (column) => column.notNull().unique())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('completed_at', 'bigint')
    .addColumn('previous_response_id', 'text')
    .addColumn('conversation_id', 'text')
    .addColumn('body', 'text', (column) => column.notNull())
    .execute();
  // Pruning by age scans oldest first.
  await db.schema
    .createIndex('responses_created_at')
    .on('responses')
    .column('created_at')
    .execute();

  await db.schema
    .createTable('response_input_items')
    .addColumn('response_id', 'text', (column) =>
      column.notNull().references('responses.id').onDelete('cascade'),
    )
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('item_id', 'text', (column) => column.notNull())
    .addColumn('body', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('response_input_items_pk', ['response_id', 'position'])
    .execute();
  // Finding the item a page starts `after`. Not unique: a request may repeat an item id.
  await db.schema
    .createIndex('response_input_items_item')
    .on('response_input_items')
    .columns(['response_id', 'item_id'])
    .execute();

  await db.schema
    .createTable('conversations')
    .$call((table) => withSequence(table, backend))
    .addColumn('id', 'text', (column) => column.notNull().unique())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('last_item_seq', 'bigint', (column) => column.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('conversation_items')
    .addColumn('conversation_id', 'text', (column) =>
      column.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .addColumn('item_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('body', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('conversation_items_pk', ['conversation_id', 'seq'])
    // Items are retrieved and deleted by id within their conversation.
    .addUniqueConstraint('conversation_items_item', ['conversation_id', 'item_id'])
    .execute();
}
