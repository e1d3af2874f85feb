import { ApiError, errorCatalogue } from 'hrserve';
import type { ChatMessage } from '../../engine/types.js';
import type { InputItem, MessageItem, ResponseCreateRequest } from './request.js';
import { responsesId } from './response.js';
import { inputToMessages } from './to-native.js';

/*
 * Items as the store keeps them and the API shows them back (a response's input items, a
 * conversation's items): each with an id and a status, message content as parts. Pure:
 * `newId` is given, so tests fix it.
 */

export interface TextPart {
  type: 'input_text' | 'output_text';
  text: string;
  annotations?: never[];
}

export interface StoredMessageItem {
  id: string;
  type: 'message';
  /** `incomplete`: an answer cut at max_output_tokens. */
  status: 'completed' | 'incomplete';
  role: 'user' | 'assistant' | 'system' | 'developer';
  content: TextPart[];
}

export interface StoredFunctionCallItem {
  id: string;
  type: 'function_call';
  status: 'completed';
  call_id: string;
  name: string;
  arguments: string;
}

export interface StoredFunctionCallOutputItem {
  id: string;
  type: 'function_call_output';
  status: 'completed';
  call_id: string;
  output: string;
}

export type ConversationItem =
  | StoredMessageItem
  | StoredFunctionCallItem
  | StoredFunctionCallOutputItem;

export type NewItemId = (prefix: 'msg' | 'fc' | 'fco') => string;

const defaultId: NewItemId = (prefix) => responsesId(prefix);

function isMessage(item: InputItem): item is MessageItem {
  return 'role' in item && (item.type === undefined || item.type === 'message');
}

function partsOf(item: MessageItem): TextPart[] {
  const partType = item.role === 'assistant' ? 'output_text' : 'input_text';
  const parts: TextPart[] =
    typeof item.content === 'string'
      ? [{ type: partType, text: item.content }]
      : (item.content as Array<{ type: TextPart['type']; text?: string }>).map((part) => ({
          type: part.type,
          text: part.text ?? '',
        }));
  return parts.map((part) => (part.type === 'output_text' ? { ...part, annotations: [] } : part));
}

/**
 * A request's input (or a conversation's new items) as stored items: checked as the model
 * will read them (inputToMessages refuses what it cannot, naming the field), then given ids
 * where the client sent none. `history` is what comes before them, for call ids.
 */
export function toStoredItems(
  input: ResponseCreateRequest['input'],
  history: readonly ChatMessage[] | 'unchecked' = [],
  options: { field?: string; newId?: NewItemId } = {},
): ConversationItem[] {
  if (input == null) return [];
  const newId = options.newId ?? defaultId;
  const field = options.field ?? 'input';
  // Items appended to a conversation are not checked against its earlier calls ('unchecked').
  if (history === 'unchecked') inputToMessages(input, [], { checkCallIds: false, field });
  else inputToMessages(input, history, { field });
  const items = typeof input === 'string' ? [{ role: 'user' as const, content: input }] : input;
  return items.map((item): ConversationItem => {
    if (isMessage(item)) {
      return {
        id: item.id ?? newId('msg'),
        type: 'message',
        status: 'completed',
        role: item.role,
        content: partsOf(item),
      };
    }
    const typed = item as { type: string; id?: string; call_id: string };
    if (typed.type === 'function_call') {
      const call = item as { name: string; arguments: string };
      return {
        id: typed.id ?? newId('fc'),
        type: 'function_call',
        status: 'completed',
        call_id: typed.call_id,
        name: call.name,
        arguments: call.arguments,
      };
    }
    const output = (item as { output: string | Array<{ text: string }> }).output;
    return {
      id: typed.id ?? newId('fco'),
      type: 'function_call_output',
      status: 'completed',
      call_id: typed.call_id,
      output: typeof output === 'string' ? output : output.map((part) => part.text).join(''),
    };
  });
}

/** Stored items (a chain's, a conversation's) as the chat the model reads. */
export function storedItemsToMessages(items: readonly ConversationItem[]): ChatMessage[] {
  // Not checked against earlier calls: items added to a conversation directly, or a call
  // deleted since, must not make the conversation unusable.
  return inputToMessages(items as unknown as InputItem[], [], { checkCallIds: false });
}

/** A client's item id, when it gave one that would collide with another in the same list. */
export function duplicateItemId(items: readonly ConversationItem[]): string | undefined {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) return item.id;
    seen.add(item.id);
  }
  return undefined;
}

export function duplicateIdError(id: string, param: string): ApiError {
  return new ApiError(
    errorCatalogue.invalidRequest,
    `Item id '${id}' appears twice; give each item its own id, or leave ids out.`,
    { param },
  );
}
