import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { llmchatOn, STORE_BACKENDS, stopPostgres } from '../../__fixtures__/store-backends.js';

/*
 * The Responses API through the official openai client (7.x), on stories260K with the
 * store on SQLite in a temporary directory.
 */

const model = 'stories260K';

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const events: T[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** The stream's events up to and including the first that `last` accepts (the client then leaves). */
async function eventsUntil<T>(
  stream: AsyncIterable<T>,
  last: (event: T, count: number) => boolean,
): Promise<T[]> {
  const events: T[] = [];
  for await (const event of stream) {
    events.push(event);
    if (last(event, events.length)) break;
  }
  return events;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('still not done after 300 polls');
}

afterAll(stopPostgres);

describe.each(STORE_BACKENDS)('/v1/responses with the openai client on $name', (backend) => {
  const llmchat = llmchatOn(backend);

  it('answers, stores the response, and gives it and its input items back', async () => {
    const response = await llmchat.openai.responses.create({
      model,
      instructions: 'Tell a story.',
      input: 'Once upon a time',
      max_output_tokens: 12,
      metadata: { run: 'one' },
    });
    expect(response).toMatchObject({
      object: 'response',
      status: 'incomplete',
      store: true,
      metadata: { run: 'one' },
      incomplete_details: { reason: 'max_output_tokens' },
    });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage?.output_tokens).toBe(12);

    expect(await llmchat.openai.responses.retrieve(response.id)).toEqual(response);
    const items = await llmchat.openai.responses.inputItems.list(response.id);
    expect(items.data).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        status: 'completed',
        role: 'user',
        content: [{ type: 'input_text', text: 'Once upon a time' }],
      },
    ]);
  });

  it('streams the events in sequence, and stores what it streamed', async () => {
    const stream = await llmchat.openai.responses.create({
      model,
      input: 'Lily went to the park',
      max_output_tokens: 10,
      stream: true,
    });
    const events = await collect(stream);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const types = events.map((event) => event.type);
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types).toContain('response.output_text.delta');
    const last = events.at(-1);
    expect(last?.type).toBe('response.incomplete');
    const streamed = last?.type === 'response.incomplete' ? last.response : undefined;
    const stored = await llmchat.openai.responses.retrieve(streamed?.id ?? '');
    expect(stored.status).toBe('incomplete');
    expect(stored.output_text).toBe(streamed?.output_text);
    expect(stored.output).toEqual(streamed?.output);
  });

  it('continues a 5-turn previous_response_id chain, reusing the cached prefix', async () => {
    let previous: OpenAI.Responses.Response | undefined;
    const turns: OpenAI.Responses.Response[] = [];
    for (const line of [
      'Tom had a ball.',
      'He threw it.',
      'It flew high.',
      'A bird saw it.',
      'The end.',
    ]) {
      previous = await llmchat.openai.responses.create({
        model,
        input: line,
        max_output_tokens: 8,
        temperature: 0,
        ...(previous ? { previous_response_id: previous.id } : {}),
      });
      turns.push(previous);
    }
    // Each turn reads every earlier turn: input grows, and all but the first reuse the KV cache.
    const inputs = turns.map((turn) => turn.usage?.input_tokens ?? 0);
    expect(inputs).toEqual([...inputs].sort((a, b) => a - b));
    for (const turn of turns.slice(1)) {
      expect(turn.usage?.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    }
    expect(turns[4]?.previous_response_id).toBe(turns[3]?.id);
  });

  it('runs a function call round trip, the output sent with previous_response_id', async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [
      {
        type: 'function',
        name: 'get_weather',
        strict: true,
        parameters: {
          type: 'object',
          properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] } },
          required: ['city'],
          additionalProperties: false,
        },
      },
    ];
    const asked = await llmchat.openai.responses.create({
      model,
      input: 'Weather in Paris?',
      tools,
      tool_choice: 'required',
      max_output_tokens: 60,
    });
    const call = asked.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    if (call?.type !== 'function_call') throw new Error('no call');
    expect(['Paris', 'Oslo']).toContain(JSON.parse(call.arguments).city);

    const answered = await llmchat.openai.responses.create({
      model,
      previous_response_id: asked.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }],
      tools,
      max_output_tokens: 8,
    });
    expect(answered.status).toBe('incomplete');
    expect(answered.output[0]?.type).toBe('message');
  });

  it('follows a json_schema text format', async () => {
    const response = await llmchat.openai.responses.create({
      model,
      input: 'A character',
      max_output_tokens: 80,
      text: {
        format: {
          type: 'json_schema',
          name: 'character',
          strict: true,
          schema: {
            type: 'object',
            properties: { mood: { type: 'string', enum: ['happy', 'sad'] } },
            required: ['mood'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(['happy', 'sad']).toContain(JSON.parse(response.output_text).mood);
  });

  it('deletes a response: it is gone, and so is continuing it', async () => {
    const response = await llmchat.openai.responses.create({
      model,
      input: 'Hi',
      max_output_tokens: 2,
    });
    await llmchat.openai.responses.delete(response.id);
    await expect(llmchat.openai.responses.retrieve(response.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const continued = llmchat.openai.responses.create({
      model,
      input: 'Again',
      previous_response_id: response.id,
    });
    await expect(continued).rejects.toMatchObject({
      status: 404,
      param: 'previous_response_id',
      message: expect.stringContaining(response.id),
    });
  });

  it('refuses previous_response_id with conversation, and background without store', async () => {
    await expect(
      llmchat.openai.responses.create({
        model,
        input: 'x',
        previous_response_id: 'resp_1',
        conversation: 'conv_1',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'conversation' });
    await expect(
      llmchat.openai.responses.create({ model, input: 'x', background: true, store: false }),
    ).rejects.toMatchObject({ status: 400, param: 'background' });
  });

  it('stores nothing with store: false', async () => {
    const response = await llmchat.openai.responses.create({
      model,
      input: 'Hi',
      store: false,
      max_output_tokens: 2,
    });
    expect(response).toMatchObject({ store: false });
    await expect(llmchat.openai.responses.retrieve(response.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });
});

describe.each(STORE_BACKENDS)('background responses on $name', (backend) => {
  const llmchat = llmchatOn(backend);

  it('returns at once, queued, and is polled to its end', async () => {
    const queued = await llmchat.openai.responses.create({
      model,
      input: 'Once upon a time',
      background: true,
      max_output_tokens: 16,
    });
    expect(queued).toMatchObject({ status: 'queued', background: true });
    const done = await until(
      () => llmchat.openai.responses.retrieve(queued.id),
      (response) => response.status !== 'queued' && response.status !== 'in_progress',
    );
    expect(done.status).toBe('incomplete');
    expect(done.usage?.output_tokens).toBe(16);
  });

  it('is cancelled while it runs, and stays cancelled', async () => {
    const queued = await llmchat.openai.responses.create({
      model,
      input: 'Once upon a time',
      background: true,
      max_output_tokens: 4000,
    });
    const cancelled = await llmchat.openai.responses.cancel(queued.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await llmchat.openai.responses.retrieve(queued.id)).status).toBe('cancelled');
    // Cancelling again is harmless; a foreground response cannot be cancelled.
    expect((await llmchat.openai.responses.cancel(queued.id)).status).toBe('cancelled');
    const foreground = await llmchat.openai.responses.create({
      model,
      input: 'Hi',
      max_output_tokens: 2,
    });
    await expect(llmchat.openai.responses.cancel(foreground.id)).rejects.toMatchObject({
      status: 400,
    });
  });

  it('resumes its stream after a given sequence number', async () => {
    const stream = await llmchat.openai.responses.create({
      model,
      input: 'The cat',
      background: true,
      stream: true,
      max_output_tokens: 24,
    });
    const firstEvents = await eventsUntil(stream, (_, count) => count === 5);
    const created = firstEvents[0];
    if (created?.type !== 'response.created') throw new Error('no response.created first');
    const resumed = await collect(
      await llmchat.openai.responses.retrieve(created.response.id, {
        stream: true,
        starting_after: 4,
      }),
    );
    expect(resumed[0]?.sequence_number).toBe(5);
    expect(resumed.map((event) => event.sequence_number)).toEqual(
      resumed.map((_, index) => index + 5),
    );
    expect(resumed.at(-1)?.type).toBe('response.incomplete');
  });

  it('ends a cancelled stream with an error event, which the client throws', async () => {
    const stream = await llmchat.openai.responses.create({
      model,
      input: 'The cat',
      background: true,
      stream: true,
      max_output_tokens: 4000,
    });
    const first = await eventsUntil(stream, (event) => event.type === 'response.output_text.delta');
    const created = first[0];
    if (created?.type !== 'response.created') throw new Error('no response.created first');
    await llmchat.openai.responses.cancel(created.response.id);
    const resumed = await llmchat.openai.responses.retrieve(created.response.id, {
      stream: true,
      starting_after: -1,
    });
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    await expect(
      (async () => {
        for await (const event of resumed) seen.push(event);
      })(),
    ).rejects.toThrow(/was cancelled \(POST \/v1\/responses\/resp_\w+\/cancel\)/);
    // Every event before the error, in sequence from 0.
    expect(seen.map((event) => event.sequence_number)).toEqual(seen.map((_, index) => index));
    expect(seen[0]?.type).toBe('response.created');
  });
});
