import { MAX_PAGE_SIZE, type Store, type StoredItem } from '@hrserve/store';
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

/** Responses read per query while walking a chain back (two queries per step). */
const CHAIN_STEP = 64;

/**
 * What a `previous_response_id` brings: each response of the chain, oldest first, as its
 * input items then its output items. Instructions are not carried over (as OpenAI does):
 * each request gives its own. 404 when a response of the chain is gone.
 */
export async function chainHistory(store: Store, previousId: string): Promise<ConversationItem[]> {
  const newestFirst: StoredItem[][] = [];
  let chars = 0;
  let next: string | null = previousId;
  while (next && newestFirst.length < MAX_CHAIN && chars < MAX_HISTORY_CHARS) {
    const id: string = next;
    const responses = await store.responses.chain(id, CHAIN_STEP);
    const [first] = responses;
    if (!first) throw new ResponseNotFoundError(id, 'previous_response_id');
    if (newestFirst.length === 0 && !CONTINUABLE.has(first.status)) {
      throw new ResponseNotContinuableError(id, first.status);
    }
    for (const response of responses) {
      const turn = [...response.inputItems, ...((response.body.output ?? []) as StoredItem[])];
      chars += sizeOf(turn);
      newestFirst.push(turn);
      next = response.previousResponseId;
      if (chars >= MAX_HISTORY_CHARS) break;
    }
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
