import {
  MAX_PAGE_SIZE,
  type Page,
  type PageRequest,
  type Store,
  type StoredItem,
} from '@hrserve/store';
import type { ConversationItem } from '../protocols/openai-responses/items.js';
import {
  ConversationNotFoundError,
  ResponseNotContinuableError,
  ResponseNotFoundError,
} from './response-errors.js';

/** Statuses whose response has an answer to continue from. */
const CONTINUABLE = new Set(['completed', 'incomplete']);

/** Longest previous_response_id chain followed; a loop (never made here) cannot hang a request. */
const MAX_CHAIN = 10_000;

/**
 * The most history read for one request, in characters of stored JSON: far more than any
 * local model's context holds (4 MB is about a million tokens), so what is left out could
 * never have been read anyway. Older turns beyond it are dropped, as truncation would.
 */
const MAX_HISTORY_CHARS = 4 * 1024 * 1024;

const sizeOf = (items: readonly StoredItem[]) =>
  items.reduce((sum, item) => sum + JSON.stringify(item).length, 0);

/** Every item of a paged list, in order. */
async function allItems(
  read: (page: PageRequest) => Promise<Page<StoredItem> | undefined>,
): Promise<StoredItem[] | undefined> {
  const items: StoredItem[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await read({ limit: MAX_PAGE_SIZE, order: 'asc', ...(after ? { after } : {}) });
    if (!page) return undefined;
    items.push(...page.data);
    if (!page.hasMore || page.data.length === 0) return items;
    after = page.lastId ?? undefined;
  }
}

/**
 * What a `previous_response_id` brings: each response of the chain, oldest first, as its
 * input items then its output items. Instructions are not carried over (as OpenAI does):
 * each request gives its own. 404 when a response of the chain is gone.
 */
export async function chainHistory(store: Store, previousId: string): Promise<ConversationItem[]> {
  const newestFirst: StoredItem[][] = [];
  let chars = 0;
  let id: string | null = previousId;
  for (let depth = 0; id && depth < MAX_CHAIN && chars < MAX_HISTORY_CHARS; depth++) {
    const response = await store.responses.get(id);
    if (!response) throw new ResponseNotFoundError(id, 'previous_response_id');
    if (depth === 0 && !CONTINUABLE.has(response.status)) {
      throw new ResponseNotContinuableError(id, response.status);
    }
    const input = await allItems((page) => store.responses.listInputItems(response.id, page));
    const output = (response.body.output ?? []) as StoredItem[];
    const turn = [...(input ?? []), ...output];
    chars += sizeOf(turn);
    newestFirst.push(turn);
    id = response.previousResponseId;
  }
  return newestFirst.reverse().flat() as unknown as ConversationItem[];
}

/** A conversation's items, oldest first (its newest MAX_HISTORY_CHARS); 404 when it does not exist. */
export async function conversationHistory(
  store: Store,
  conversationId: string,
): Promise<ConversationItem[]> {
  const newestFirst: StoredItem[] = [];
  let chars = 0;
  let after: string | undefined;
  for (;;) {
    const page = await store.conversations.listItems(conversationId, {
      limit: MAX_PAGE_SIZE,
      order: 'desc',
      ...(after ? { after } : {}),
    });
    if (!page) throw new ConversationNotFoundError(conversationId, 'conversation');
    newestFirst.push(...page.data);
    chars += sizeOf(page.data);
    if (!page.hasMore || page.data.length === 0 || chars >= MAX_HISTORY_CHARS) break;
    after = page.lastId ?? undefined;
  }
  return newestFirst.reverse() as unknown as ConversationItem[];
}
