import type { NewJob, StateStore, Store } from '@hrserve/store';
import { ApiError, errorCatalogue } from 'hrserve';
import type { NativeChatRequest } from '../generation/native-request.js';
import {
  type ConversationItem,
  duplicateIdError,
  duplicateItemId,
  storedItemsToMessages,
  toStoredItems,
} from '../protocols/openai-responses/items.js';
import type { ResponseCreateRequest } from '../protocols/openai-responses/request.js';
import {
  type ResponseIdentity,
  type ResponseObject,
  type ResponsesEncoder,
  responsesEncoder,
  responsesId,
} from '../protocols/openai-responses/response.js';
import { responseToNative } from '../protocols/openai-responses/to-native.js';
import { chainHistory, conversationHistory } from './history.js';

/**
 * A Responses create, ready to run: the native request (the stored history, then the
 * input), the encoder, and what is stored when — nothing at all for `store: false`
 * without state. Its store writes are the response's whole life: `begin` (queued or in
 * progress, with its input items), then one of `finish` (the final object and the
 * conversation's new items, in one transaction) or `fail`.
 */
export interface PreparedResponse {
  id: string;
  /** Epoch milliseconds: when it was created (its `created_at`, in seconds). */
  createdAtMs: number;
  native: NativeChatRequest;
  encoder: ResponsesEncoder;
  /** Whether the response is kept (GET finds it). */
  stored: boolean;
  /** The Response object before its answer. */
  snapshot(status: 'queued' | 'in_progress'): ResponseObject;
  /** Stores it, with the job that will run it (a durable background response) if given. */
  begin(status: 'queued' | 'in_progress', job?: NewJob): Promise<void>;
  /** A queued (background) response got its sequence; false when it is no longer queued (cancelled meanwhile). */
  started(): Promise<boolean>;
  finish(final: ResponseObject): Promise<void>;
  fail(body: ResponseObject): Promise<void>;
  /** Forgets it: a batch line's attempt that will run again (preempted, stopped). */
  discard(): Promise<void>;
}

function invalid(param: string, message: string): ApiError {
  return new ApiError(errorCatalogue.invalidRequest, message, { param });
}

function conversationIdOf(conversation: ResponseCreateRequest['conversation']): string | undefined {
  if (conversation == null) return undefined;
  return typeof conversation === 'string' ? conversation : conversation.id;
}

/** The combinations the API refuses, each naming its field. */
function checkStateOptions(body: ResponseCreateRequest, conversationId: string | undefined): void {
  if (body.previous_response_id && conversationId) {
    throw invalid(
      'conversation',
      "'previous_response_id' and 'conversation' cannot be used together: a conversation already holds the earlier turns. Send one or the other.",
    );
  }
  if (body.store === false && conversationId) {
    throw invalid(
      'store',
      "'store: false' cannot be used with 'conversation': the conversation keeps this turn. Leave 'store' out, or leave out 'conversation'.",
    );
  }
  if (body.store === false && body.background) {
    throw invalid(
      'background',
      "'background: true' needs the response stored, to be fetched later: leave 'store' out (it defaults to true).",
    );
  }
}

export async function prepareResponse(
  body: ResponseCreateRequest,
  state: StateStore,
  now: () => number = Date.now,
  /** A stored response prepared again to run it (a durable background response's job). */
  resume?: { id: string; createdAtMs: number },
): Promise<PreparedResponse> {
  const conversationId = conversationIdOf(body.conversation);
  checkStateOptions(body, conversationId);
  const stored = body.store !== false;
  const needsStore = stored || Boolean(body.previous_response_id);
  // A stateless request never touches the store: it works while the store is down.
  const store: Store | undefined = needsStore ? state.current() : undefined;

  let history: ConversationItem[] = [];
  if (store && body.previous_response_id) {
    history = await chainHistory(store, body.previous_response_id);
  } else if (store && conversationId) {
    history = await conversationHistory(store, conversationId);
  }
  const historyMessages = storedItemsToMessages(history);
  const native = responseToNative(body, historyMessages);
  const inputItems = toStoredItems(body.input, historyMessages);
  const duplicate = duplicateItemId([...(conversationId ? history : []), ...inputItems]);
  if (duplicate) throw duplicateIdError(duplicate, 'input');

  const createdAtMs = resume?.createdAtMs ?? now();
  const identity: ResponseIdentity = {
    id: resume?.id ?? responsesId('resp'),
    createdAt: Math.floor(createdAtMs / 1000),
    request: body,
    store: stored,
    previousResponseId: body.previous_response_id ?? null,
    conversationId: conversationId ?? null,
  };
  const encoder = responsesEncoder(identity);

  const life =
    store && stored
      ? storedLife(store, { ...identity, encoder, createdAtMs }, inputItems, now)
      : NOT_STORED;
  return {
    id: identity.id,
    createdAtMs,
    native,
    encoder,
    stored,
    snapshot: (status) => encoder.snapshot(status),
    ...life,
  };
}

type ResponseLife = Pick<PreparedResponse, 'begin' | 'started' | 'finish' | 'fail' | 'discard'>;

/** `store: false`: the response lives in its request only. */
const NOT_STORED: ResponseLife = {
  begin: async () => {},
  started: async () => true,
  finish: async () => {},
  fail: async () => {},
  discard: async () => {},
};

/** The store writes of a kept response, from created to its end. */
function storedLife(
  store: Store,
  identity: ResponseIdentity & { encoder: ResponsesEncoder; createdAtMs: number },
  inputItems: ConversationItem[],
  now: () => number,
): ResponseLife {
  const { id, encoder } = identity;
  return {
    begin: async (status, job) => {
      await store.responses.create({
        job,
        id,
        status,
        model: identity.request.model,
        createdAt: identity.createdAtMs,
        previousResponseId: identity.previousResponseId,
        conversationId: identity.conversationId,
        body: encoder.snapshot(status),
        inputItems,
      });
    },
    started: () => store.responses.markInProgress(id, encoder.snapshot('in_progress')),
    finish: async (final) => {
      await store.responses.markCompleted(id, {
        status: final.status === 'incomplete' ? 'incomplete' : 'completed',
        body: final,
        at: now(),
        conversationItems: [...inputItems, ...(final.output as ConversationItem[])],
      });
    },
    discard: async () => {
      await store.responses.delete(id);
    },
    fail: async (failed) => {
      const outcome = { body: failed, at: now() };
      if (failed.status === 'cancelled') await store.responses.markCancelled(id, outcome);
      else await store.responses.markFailed(id, outcome);
    },
  };
}
