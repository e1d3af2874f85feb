import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConflictError, UnknownCursorError } from './errors.js';
import { openStore, type Store } from './store.js';
import { BACKENDS, removeTestDirectories } from './test/backends.js';
import { message, newId, newResponse, responseBody } from './test/fixtures.js';

afterAll(removeTestDirectories);

describe.each(BACKENDS)('responses on $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ service: 'test', ...(await backend.fresh()) });
  });
  afterAll(() => store?.close());

  it('stores a response with its input items and reads it back as given', async () => {
    const response = newResponse({
      status: 'completed',
      completedAt: 1_700_000_000_500,
      previousResponseId: 'resp_earlier',
      body: {
        ...responseBody('x', 'completed'),
        text: { format: { type: 'text' } },
        temperature: 0.5,
      },
      inputs: 2,
    });
    const created = await store.responses.create(response);
    const read = await store.responses.get(response.id);
    expect(read).toEqual(created);
    expect(read).toMatchObject({
      id: response.id,
      status: 'completed',
      model: 'test-model',
      createdAt: 1_700_000_000_000,
      completedAt: 1_700_000_000_500,
      previousResponseId: 'resp_earlier',
      conversationId: null,
      body: response.body,
    });
    const items = await store.responses.listInputItems(response.id, { limit: 10, order: 'asc' });
    expect(items?.data).toEqual(response.inputItems);
  });

  it('reads a previous_response_id chain newest first with its input items, bounded, stopping where one is gone', async () => {
    const chain: string[] = [];
    for (let turn = 0; turn < 5; turn++) {
      const response = newResponse({
        status: 'completed',
        inputs: turn + 1,
        previousResponseId: chain.at(-1) ?? null,
      });
      await store.responses.create(response);
      chain.push(response.id);
    }
    const newest = chain.at(-1) ?? '';
    const read = await store.responses.chain(newest, 100);
    expect(read.map((response) => response.id)).toEqual([...chain].reverse());
    expect(read.map((response) => response.inputItems.length)).toEqual([5, 4, 3, 2, 1]);
    expect(read[4]?.inputItems.map((item) => item.content)).toEqual([
      [{ type: 'input_text', text: 'input 0' }],
    ]);
    expect((await store.responses.chain(newest, 2)).map((response) => response.id)).toEqual([
      chain[4],
      chain[3],
    ]);
    // The middle one deleted: the chain stops above it, naming it as the one before.
    await store.responses.delete(chain[2] ?? '');
    const cut = await store.responses.chain(newest, 100);
    expect(cut.map((response) => response.id)).toEqual([chain[4], chain[3]]);
    expect(cut.at(-1)?.previousResponseId).toBe(chain[2]);
    expect(await store.responses.chain('resp_missing', 100)).toEqual([]);
  });

  it('answers undefined and false for a response it does not have', async () => {
    expect(await store.responses.get('resp_missing')).toBeUndefined();
    expect(await store.responses.delete('resp_missing')).toBe(false);
    expect(
      await store.responses.listInputItems('resp_missing', { limit: 10, order: 'asc' }),
    ).toBeUndefined();
    expect(
      await store.responses.markCompleted('resp_missing', { body: {}, at: 1 }),
    ).toBeUndefined();
  });

  it('refuses an id already stored, and keeps the first', async () => {
    const response = newResponse();
    await store.responses.create(response);
    await expect(
      store.responses.create({ ...response, model: 'other', inputItems: [] }),
    ).rejects.toBeInstanceOf(StoreConflictError);
    expect((await store.responses.get(response.id))?.model).toBe('test-model');
    expect(
      (await store.responses.listInputItems(response.id, { limit: 10, order: 'asc' }))?.data,
    ).toHaveLength(1);
  });

  it('deletes a response with its input items', async () => {
    const response = newResponse({ inputs: 3 });
    await store.responses.create(response);
    expect(await store.responses.delete(response.id)).toBe(true);
    expect(await store.responses.get(response.id)).toBeUndefined();
    expect(
      await store.responses.listInputItems(response.id, { limit: 10, order: 'asc' }),
    ).toBeUndefined();
    expect(await store.responses.delete(response.id)).toBe(false);
  });

  it('pages input items after an id, in both orders', async () => {
    const response = newResponse({ inputs: 5 });
    await store.responses.create(response);
    const ids = response.inputItems.map((item) => item.id);
    const list = (after: string | undefined, order: 'asc' | 'desc') =>
      store.responses.listInputItems(response.id, { after, limit: 2, order });

    const first = await list(undefined, 'asc');
    expect(first).toMatchObject({ firstId: ids[0], lastId: ids[1], hasMore: true });
    const second = await list(first?.lastId ?? undefined, 'asc');
    expect(second?.data.map((item) => item.id)).toEqual(ids.slice(2, 4));
    const last = await list(second?.lastId ?? undefined, 'asc');
    expect(last).toMatchObject({ firstId: ids[4], lastId: ids[4], hasMore: false });

    const newest = await list(undefined, 'desc');
    expect(newest?.data.map((item) => item.id)).toEqual([ids[4], ids[3]]);
    const older = await list(ids[1], 'desc');
    expect(older).toMatchObject({ firstId: ids[0], lastId: ids[0], hasMore: false });

    await expect(list('msg_not_there', 'asc')).rejects.toBeInstanceOf(UnknownCursorError);
  });

  it('answers an empty page for a response without input items', async () => {
    const response = newResponse({ inputs: 0 });
    await store.responses.create(response);
    expect(await store.responses.listInputItems(response.id, { limit: 5, order: 'desc' })).toEqual({
      data: [],
      firstId: null,
      lastId: null,
      hasMore: false,
    });
  });

  it('lists responses by creation order, after a cursor', async () => {
    const made = [newResponse(), newResponse(), newResponse()];
    for (const response of made) await store.responses.create(response);
    const ids = made.map((response) => response.id);
    // Other tests' responses come before these: page from the first of ours.
    const everything = await store.responses.list({ limit: 1000, order: 'asc' });
    const all = everything.data.map((response) => response.id);
    expect(all.slice(-3)).toEqual(ids);
    const page = await store.responses.list({ after: ids[0], limit: 1, order: 'asc' });
    expect(page).toMatchObject({ firstId: ids[1], hasMore: true });
    const back = await store.responses.list({ after: ids[2], limit: 2, order: 'desc' });
    expect(back.data.map((response) => response.id)).toEqual([ids[1], ids[0]]);
  });

  it('completes a running response once: a later cancel changes nothing', async () => {
    const response = newResponse({ status: 'queued' });
    await store.responses.create(response);
    const completed = await store.responses.markCompleted(response.id, {
      body: responseBody(response.id, 'completed', [message('hi', 'assistant')]),
      at: 1_700_000_001_000,
    });
    expect(completed).toMatchObject({ status: 'completed', completedAt: 1_700_000_001_000 });
    expect(completed?.body.output).toHaveLength(1);

    const cancelled = await store.responses.markCancelled(response.id, {
      body: responseBody(response.id, 'cancelled'),
      at: 1_700_000_002_000,
    });
    expect(cancelled).toEqual(completed);
    expect(await store.responses.get(response.id)).toEqual(completed);
  });

  it('marks a running response failed, or incomplete', async () => {
    const failing = newResponse();
    await store.responses.create(failing);
    const error = { code: 'server_error', message: 'the model stopped' };
    const failed = await store.responses.markFailed(failing.id, {
      body: { ...responseBody(failing.id, 'failed'), error },
      at: 5,
    });
    expect(failed).toMatchObject({ status: 'failed', completedAt: 5, body: { error } });

    const cut = newResponse();
    await store.responses.create(cut);
    const incomplete = await store.responses.markCompleted(cut.id, {
      status: 'incomplete',
      body: responseBody(cut.id, 'incomplete'),
      at: 6,
    });
    expect(incomplete?.status).toBe('incomplete');
  });

  it('starts a queued response once, and lists what is unfinished, oldest first', async () => {
    const queued = newResponse({ status: 'queued' });
    const running = newResponse({ status: 'in_progress' });
    await store.responses.create(queued);
    await store.responses.create(running);
    const unfinished = (await store.responses.listUnfinished(1_000)).map((response) => response.id);
    expect(unfinished.indexOf(queued.id)).toBeLessThan(unfinished.indexOf(running.id));

    expect(
      await store.responses.markInProgress(queued.id, responseBody(queued.id, 'in_progress')),
    ).toBe(true);
    expect((await store.responses.get(queued.id))?.status).toBe('in_progress');
    // A cancelled (or finished) response is not brought back.
    await store.responses.markCancelled(running.id, {
      body: responseBody(running.id, 'cancelled'),
      at: 3,
    });
    expect(
      await store.responses.markInProgress(running.id, responseBody(running.id, 'in_progress')),
    ).toBe(false);
    expect((await store.responses.get(running.id))?.status).toBe('cancelled');
    const left = (await store.responses.listUnfinished(1_000)).map((response) => response.id);
    expect(left).toContain(queued.id);
    expect(left).not.toContain(running.id);
  });

  it("appends a response's input and output to its conversation as it completes", async () => {
    const conversation = await store.conversations.create({
      id: newId('conv'),
      createdAt: 1,
      metadata: null,
      items: [message('earlier')],
    });
    const response = newResponse({ conversationId: conversation.id });
    await store.responses.create(response);
    const output = message('answer', 'assistant');
    await store.responses.markCompleted(response.id, {
      body: responseBody(response.id, 'completed', [output]),
      at: 2,
      conversationItems: [...response.inputItems, output],
    });
    const items = await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' });
    expect(items?.data.map((item) => item.id)).toEqual([
      expect.any(String),
      response.inputItems[0]?.id,
      output.id,
    ]);
  });

  it('stores a finished response and its conversation items in one write', async () => {
    const conversation = await store.conversations.create({
      id: newId('conv'),
      createdAt: 1,
      metadata: null,
      items: [],
    });
    const output = message('answer', 'assistant');
    const response = newResponse({ status: 'completed', conversationId: conversation.id });
    await store.responses.create({
      ...response,
      conversationItems: [...response.inputItems, output],
    });
    const items = await store.conversations.listItems(conversation.id, {
      limit: 10,
      order: 'desc',
    });
    expect(items?.data.map((item) => item.id)).toEqual([output.id, response.inputItems[0]?.id]);
  });

  it('stores the response when its conversation was deleted meanwhile', async () => {
    const response = newResponse({ conversationId: 'conv_gone' });
    await store.responses.create(response);
    const completed = await store.responses.markCompleted(response.id, {
      body: responseBody(response.id, 'completed'),
      at: 3,
      conversationItems: response.inputItems,
    });
    expect(completed?.status).toBe('completed');
  });
});
