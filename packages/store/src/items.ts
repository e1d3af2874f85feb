/** JSON as the store hands it back. */
export type JsonObject = { [key: string]: unknown };

/**
 * What the store keeps of an item (a message, a function call, its output…): the API's JSON,
 * as given. It needs an id, which pages start after and which conversation items are
 * retrieved and deleted by; assigning ids to items a client sent without one is the route's
 * business.
 */
export interface ItemInput {
  readonly id: string;
  readonly type: string;
}

/** An item read back: the JSON that was stored. */
export type StoredItem = { id: string; type: string } & JsonObject;

/** Stored as text on both backends (see schema.ts). */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}
