import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConflictError, UnknownCursorError } from './errors.js';
import { openStore, type Store } from './store.js';
import { BACKENDS, removeTestDirectories } from './test/backends.js';
import { message, newId } from './test/fixtures.js';

afterAll(removeTestDirectories);

describe.each(BACKENDS)('conversations on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ service: 'test', ...(await backend.fresh()) });
  });
  afterAll(() => store?.close());

  const create = (items = [message('hello')], metadata: Record<string, string> | null = null) =>
    store.conversations.create({
      id: newId('conv'),
      createdAt: 1_700_000_000_000,
      metadata,
      items,
    });

  it('creates a conversation with its first items and metadata', async () => {
    const items = [message('hello'), message('there')];
    const conversation = await create(items, { topic: 'greetings' });
    expect(await store.conversations.get(conversation.id)).toEqual({
      id: conversation.id,
      createdAt: 1_700_000_000_000,
      metadata: { topic: 'greetings' },
    });
    const page = await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' });
    expect(page?.data).toEqual(items);
  });

  it('replaces the metadata, and answers undefined for a conversation it does not have', async () => {
    const conversation = await create();
    expect(
      await store.conversations.updateMetadata(conversation.id, { model: 'other' }),
    ).toMatchObject({ metadata: { model: 'other' } });
    expect(await store.conversations.updateMetadata(conversation.id, null)).toMatchObject({
      metadata: null,
    });
    expect(await store.conversations.updateMetadata('conv_missing', null)).toBeUndefined();
    expect(await store.conversations.get('conv_missing')).toBeUndefined();
    expect(
      await store.conversations.listItems('conv_missing', { limit: 1, order: 'asc' }),
    ).toBeUndefined();
    expect(await store.conversations.appendItems('conv_missing', [message('x')], 1)).toBe(false);
  });

  it('deletes a conversation with its items', async () => {
    const conversation = await create([message('a'), message('b')]);
    expect(await store.conversations.delete(conversation.id)).toBe(true);
    expect(await store.conversations.get(conversation.id)).toBeUndefined();
    expect(await store.conversations.delete(conversation.id)).toBe(false);
    // Its id is free again, and the new conversation starts with nothing of the old one.
    await store.conversations.create({
      id: conversation.id,
      createdAt: 2,
      metadata: null,
      items: [],
    });
    expect(
      (await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' }))?.data,
    ).toEqual([]);
  });

  it('appends items after the last one and pages them both ways', async () => {
    const first = message('one');
    const conversation = await create([first]);
    const more = [message('two'), message('three', 'assistant'), message('four'), message('five')];
    expect(await store.conversations.appendItems(conversation.id, more.slice(0, 2), 2)).toBe(true);
    expect(await store.conversations.appendItems(conversation.id, more.slice(2), 3)).toBe(true);
    const ids = [first, ...more].map((item) => item.id);
    const list = (after: string | undefined, order: 'asc' | 'desc', limit = 2) =>
      store.conversations.listItems(conversation.id, { after, limit, order });

    const pages: string[][] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const current = await list(after, 'asc');
      pages.push(current?.data.map((item) => item.id) ?? []);
      if (!current?.hasMore) break;
      after = current.lastId ?? undefined;
    }
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);

    expect(await list(undefined, 'desc', 3)).toMatchObject({
      firstId: ids[4],
      lastId: ids[2],
      hasMore: true,
    });
    expect((await list(ids[2], 'desc', 10))?.data.map((item) => item.id)).toEqual([ids[1], ids[0]]);
    await expect(list('msg_not_here', 'desc')).rejects.toBeInstanceOf(UnknownCursorError);
  });

  it('gets and deletes one item', async () => {
    const kept = message('kept');
    const dropped = message('dropped');
    const conversation = await create([kept, dropped]);
    expect(await store.conversations.getItem(conversation.id, dropped.id)).toEqual(dropped);
    expect(await store.conversations.deleteItem(conversation.id, dropped.id)).toBe(true);
    expect(await store.conversations.getItem(conversation.id, dropped.id)).toBeUndefined();
    expect(await store.conversations.deleteItem(conversation.id, dropped.id)).toBe(false);
    expect(
      (await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' }))?.data,
    ).toEqual([kept]);
    // An item of another conversation is not this one's.
    const other = await create();
    expect(await store.conversations.getItem(other.id, kept.id)).toBeUndefined();
  });

  it('refuses an item id already in the conversation, and appends nothing of that write', async () => {
    const existing = message('first');
    const conversation = await create([existing]);
    await expect(
      store.conversations.appendItems(conversation.id, [message('new'), existing], 2),
    ).rejects.toBeInstanceOf(StoreConflictError);
    expect(
      (await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' }))?.data,
    ).toEqual([existing]);
  });

  it('keeps every item of appends made at once, each in one piece', async () => {
    const conversation = await create([]);
    const writes = Array.from({ length: 12 }, (_, index) => [
      message(`question ${index}`),
      message(`answer ${index}`, 'assistant'),
    ]);
    await Promise.all(
      writes.map((items) => store.conversations.appendItems(conversation.id, items, 5)),
    );
    const page = await store.conversations.listItems(conversation.id, { limit: 100, order: 'asc' });
    const texts = page?.data.map((item) => (item.content as Array<{ text: string }>)[0]?.text);
    expect(texts).toHaveLength(24);
    // Each write's two items are next to each other, question first.
    for (let index = 0; index < 24; index += 2) {
      expect(texts?.[index]?.replace('question', 'answer')).toBe(texts?.[index + 1]);
    }
  });

  it('lists conversations by creation order', async () => {
    const made = [await create([]), await create([]), await create([])];
    const page = await store.conversations.list({ after: made[0]?.id, limit: 5, order: 'asc' });
    expect(page.data.map((conversation) => conversation.id)).toEqual([made[1]?.id, made[2]?.id]);
    expect(page.hasMore).toBe(false);
    const newest = await store.conversations.list({ limit: 1, order: 'desc' });
    expect(newest).toMatchObject({ firstId: made[2]?.id, hasMore: true });
  });
});
