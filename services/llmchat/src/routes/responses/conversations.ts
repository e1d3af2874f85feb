import type { StateStore, StoredConversation } from '@hrserve/store';
import { type FastifyInstance, listBody, pageRequestOf, parseRequest } from 'hrserve';
import {
  duplicateIdError,
  duplicateItemId,
  toStoredItems,
} from '../../protocols/openai-responses/items.js';
import {
  conversationCreateSchema,
  conversationItemsCreateSchema,
  conversationUpdateSchema,
} from '../../protocols/openai-responses/request.js';
import { responsesId } from '../../protocols/openai-responses/response.js';
import {
  ConversationItemNotFoundError,
  ConversationNotFoundError,
} from '../../responses/response-errors.js';

type ById = { Params: { id: string } };
type ByItem = { Params: { id: string; item: string } };

/** A conversation as the API shows it (openai's Conversation). */
function conversationBody(conversation: StoredConversation) {
  return {
    id: conversation.id,
    object: 'conversation' as const,
    created_at: Math.floor(conversation.createdAt / 1000),
    metadata: conversation.metadata ?? {},
  };
}

/**
 * The Conversations API — https://platform.openai.com/docs/api-reference/conversations —
 * plus GET /v1/conversations, which OpenAI does not have: a list of every conversation,
 * so a chat client can offer them (hrchat's /load, the console).
 */
export function registerConversations(app: FastifyInstance, state: StateStore): void {
  const stored = async (id: string) => {
    const conversation = await state.current().conversations.get(id);
    if (!conversation) throw new ConversationNotFoundError(id);
    return conversation;
  };

  app.post('/v1/conversations', async (request) => {
    const body = parseRequest(conversationCreateSchema, request.body ?? {});
    const items = toStoredItems(body.items ?? undefined, [], { field: 'items' });
    const duplicate = duplicateItemId(items);
    if (duplicate) throw duplicateIdError(duplicate, 'items');
    const conversation = await state.current().conversations.create({
      id: responsesId('conv'),
      createdAt: Date.now(),
      metadata: body.metadata ?? null,
      items,
    });
    return conversationBody(conversation);
  });

  app.get('/v1/conversations', async (request) => {
    const page = await state.current().conversations.list(pageRequestOf(request.query));
    return listBody(page, conversationBody);
  });

  app.get<ById>('/v1/conversations/:id', async (request) =>
    conversationBody(await stored(request.params.id)),
  );

  app.post<ById>('/v1/conversations/:id', async (request) => {
    const body = parseRequest(conversationUpdateSchema, request.body);
    const updated = await state
      .current()
      .conversations.updateMetadata(request.params.id, body.metadata);
    if (!updated) throw new ConversationNotFoundError(request.params.id);
    return conversationBody(updated);
  });

  app.delete<ById>('/v1/conversations/:id', async (request) => {
    if (!(await state.current().conversations.delete(request.params.id))) {
      throw new ConversationNotFoundError(request.params.id);
    }
    return { id: request.params.id, object: 'conversation.deleted', deleted: true };
  });

  app.post<ById>('/v1/conversations/:id/items', async (request) => {
    const body = parseRequest(conversationItemsCreateSchema, request.body);
    const items = toStoredItems(body.items, 'unchecked', { field: 'items' });
    const duplicate = duplicateItemId(items);
    if (duplicate) throw duplicateIdError(duplicate, 'items');
    const appended = await state
      .current()
      .conversations.appendItems(request.params.id, items, Date.now());
    if (!appended) throw new ConversationNotFoundError(request.params.id);
    return {
      object: 'list' as const,
      data: items,
      first_id: items[0]?.id ?? null,
      last_id: items.at(-1)?.id ?? null,
      has_more: false,
    };
  });

  app.get<ById>('/v1/conversations/:id/items', async (request) => {
    const page = await state
      .current()
      .conversations.listItems(request.params.id, pageRequestOf(request.query));
    if (!page) throw new ConversationNotFoundError(request.params.id);
    return listBody(page);
  });

  app.get<ByItem>('/v1/conversations/:id/items/:item', async (request) => {
    const { id, item } = request.params;
    const found = await state.current().conversations.getItem(id, item);
    if (found) return found;
    await stored(id);
    throw new ConversationItemNotFoundError(id, item);
  });

  app.delete<ByItem>('/v1/conversations/:id/items/:item', async (request) => {
    const { id, item } = request.params;
    const conversation = await stored(id);
    if (!(await state.current().conversations.deleteItem(id, item))) {
      throw new ConversationItemNotFoundError(id, item);
    }
    return conversationBody(conversation);
  });
}
