import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { llmchatOn, STORE_BACKENDS, stopPostgres } from '../../__fixtures__/store-backends.js';

/* The Conversations API through the official openai client, and responses made in one. */

const model = 'stories260K';

const userMessage = (text: string) => ({
  type: 'message' as const,
  role: 'user' as const,
  content: text,
});

afterAll(stopPostgres);

describe.each(STORE_BACKENDS)('/v1/conversations with the openai client on $name', (backend) => {
  const llmchat = llmchatOn(backend);

  it('creates, retrieves, updates and deletes a conversation', async () => {
    const created = await llmchat.openai.conversations.create({
      items: [userMessage('Hello')],
      metadata: { topic: 'greeting' },
    });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^conv_/),
      object: 'conversation',
      metadata: { topic: 'greeting' },
    });
    expect(await llmchat.openai.conversations.retrieve(created.id)).toEqual(created);
    const updated = await llmchat.openai.conversations.update(created.id, {
      metadata: { topic: 'other' },
    });
    expect(updated.metadata).toEqual({ topic: 'other' });

    expect(await llmchat.openai.conversations.delete(created.id)).toEqual({
      id: created.id,
      object: 'conversation.deleted',
      deleted: true,
    });
    await expect(llmchat.openai.conversations.retrieve(created.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });

  it('adds items and pages through them in either order', async () => {
    const conversation = await llmchat.openai.conversations.create({});
    for (let batch = 0; batch < 2; batch++) {
      const added = await llmchat.openai.conversations.items.create(conversation.id, {
        items: Array.from({ length: 12 }, (_, index) => userMessage(`line ${batch * 12 + index}`)),
      });
      expect(added.data).toHaveLength(12);
    }
    const texts = (page: OpenAI.Conversations.ConversationItem[]) =>
      page.map((item) =>
        item.type === 'message' && item.content[0]?.type === 'input_text'
          ? item.content[0].text
          : '',
      );
    // Newest first by default, as OpenAI lists them.
    const newest = await llmchat.openai.conversations.items.list(conversation.id, { limit: 5 });
    expect(texts(newest.data)).toEqual(['line 23', 'line 22', 'line 21', 'line 20', 'line 19']);
    expect(newest.has_more).toBe(true);

    // The client's auto-pagination follows `after` through every page.
    const all: OpenAI.Conversations.ConversationItem[] = [];
    for await (const item of llmchat.openai.conversations.items.list(conversation.id, {
      limit: 10,
      order: 'asc',
    })) {
      all.push(item);
    }
    expect(texts(all)).toEqual(Array.from({ length: 24 }, (_, index) => `line ${index}`));

    const third = all[2];
    if (!third) throw new Error('no third item');
    expect(
      await llmchat.openai.conversations.items.retrieve(third.id ?? '', {
        conversation_id: conversation.id,
      }),
    ).toEqual(third);
    await llmchat.openai.conversations.items.delete(third.id ?? '', {
      conversation_id: conversation.id,
    });
    await expect(
      llmchat.openai.conversations.items.retrieve(third.id ?? '', {
        conversation_id: conversation.id,
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('keeps the turns of responses made in it, and reads them back as history', async () => {
    const conversation = await llmchat.openai.conversations.create({});
    const first = await llmchat.openai.responses.create({
      model,
      conversation: conversation.id,
      input: 'Tom had a red ball.',
      max_output_tokens: 6,
    });
    expect(first.conversation).toEqual({ id: conversation.id });
    const second = await llmchat.openai.responses.create({
      model,
      conversation: conversation.id,
      input: 'Where did it go?',
      max_output_tokens: 6,
    });
    // The second turn read the first (question and answer), from the KV cache.
    expect(second.usage?.input_tokens).toBeGreaterThan(first.usage?.input_tokens ?? 0);
    expect(second.usage?.input_tokens_details.cached_tokens).toBeGreaterThan(0);

    const items = await llmchat.openai.conversations.items.list(conversation.id, { order: 'asc' });
    expect(items.data.map((item) => [item.type, item.type === 'message' ? item.role : ''])).toEqual(
      [
        ['message', 'user'],
        ['message', 'assistant'],
        ['message', 'user'],
        ['message', 'assistant'],
      ],
    );
    expect(items.data[1]?.id).toBe(first.output[0]?.id);
  });

  it('stays usable after a function call is deleted from it, its output left behind', async () => {
    const conversation = await llmchat.openai.conversations.create({
      items: [
        { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      ],
    });
    const items = await llmchat.openai.conversations.items.list(conversation.id, { order: 'asc' });
    await llmchat.openai.conversations.items.delete(items.data[0]?.id ?? '', {
      conversation_id: conversation.id,
    });
    const response = await llmchat.openai.responses.create({
      model,
      conversation: conversation.id,
      input: 'And tomorrow?',
      max_output_tokens: 4,
    });
    expect(response.status).toBe('incomplete');
  });

  it('lists every conversation (an extension: OpenAI has no such list)', async () => {
    const made = await llmchat.openai.conversations.create({ metadata: { title: 'listed' } });
    const response = await fetch(`${llmchat.server.url}/v1/conversations?limit=100`);
    const list = (await response.json()) as { object: string; data: Array<{ id: string }> };
    expect(list.object).toBe('list');
    expect(list.data.map((conversation) => conversation.id)).toContain(made.id);
  });

  it('refuses what it cannot keep, naming the field', async () => {
    await expect(
      llmchat.openai.responses.create({ model, conversation: 'conv_missing', input: 'x' }),
    ).rejects.toMatchObject({ status: 404, param: 'conversation' });
    const conversation = await llmchat.openai.conversations.create({});
    await expect(
      llmchat.openai.conversations.items.create(conversation.id, {
        items: [{ type: 'reasoning', id: 'rs_1', summary: [] }],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'items.0.type' });
    await expect(
      llmchat.openai.conversations.items.create(conversation.id, {
        items: [
          { type: 'function_call', id: 'fc_same', call_id: 'call_1', name: 'f', arguments: '{}' },
          { type: 'function_call', id: 'fc_same', call_id: 'call_2', name: 'f', arguments: '{}' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'items' });
    await expect(
      llmchat.openai.conversations.create({
        items: Array.from({ length: 21 }, () => userMessage('x')),
      }),
    ).rejects.toMatchObject({ status: 400, param: 'items' });
  });
});
