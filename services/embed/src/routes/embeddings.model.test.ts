import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbed, type TestServer } from '../__fixtures__/embed-server.js';
import { EmbedderClosedError } from '../engine/embedder.js';

const model = 'stories260K';

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

describe('POST /v1/embeddings with the openai client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startEmbed();
  });
  afterAll(() => server.close());

  it('embeds a string: one normalized vector of the model size, with usage', async () => {
    const response = await server.openai.embeddings.create({
      model,
      input: 'Once upon a time',
      encoding_format: 'float',
    });
    expect(response.object).toBe('list');
    expect(response.model).toBe(model);
    expect(response.data).toHaveLength(1);
    const [first] = response.data;
    expect(first?.object).toBe('embedding');
    expect(first?.index).toBe(0);
    expect(first?.embedding).toHaveLength(server.embedder.dimensions);
    expect(norm(first?.embedding ?? [])).toBeCloseTo(1, 5);
    expect(response.usage.prompt_tokens).toBe(server.embedder.tokenize('Once upon a time').length);
    expect(response.usage.total_tokens).toBe(response.usage.prompt_tokens);
  });

  it('is deterministic, and a batch equals its inputs embedded one by one', async () => {
    const texts = [
      'The cat sat.',
      'A dog ran to the tree.',
      'Lily liked the sea and the sun.',
      'Tom',
    ];
    const batch = await server.openai.embeddings.create({
      model,
      input: texts,
      encoding_format: 'float',
    });
    expect(batch.data.map((item) => item.index)).toEqual([0, 1, 2, 3]);
    for (const [index, text] of texts.entries()) {
      const alone = await server.openai.embeddings.create({
        model,
        input: text,
        encoding_format: 'float',
      });
      const again = await server.openai.embeddings.create({
        model,
        input: text,
        encoding_format: 'float',
      });
      expect(alone.data[0]?.embedding).toEqual(again.data[0]?.embedding);
      const fromBatch = batch.data[index]?.embedding ?? [];
      const single = alone.data[0]?.embedding ?? [];
      for (const [at, value] of single.entries()) expect(fromBatch[at]).toBeCloseTo(value, 6);
    }
    // Different texts, different vectors.
    expect(batch.data[0]?.embedding).not.toEqual(batch.data[1]?.embedding);
  });

  it('base64 decodes to the same floats (and is what the client asks for by default)', async () => {
    const floats = await server.openai.embeddings.create({
      model,
      input: 'A bird',
      encoding_format: 'float',
    });
    const raw = (await (
      await fetch(`${server.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, input: 'A bird', encoding_format: 'base64' }),
      })
    ).json()) as { data: Array<{ embedding: string }> };
    const bytes = Buffer.from(raw.data[0]?.embedding ?? '', 'base64');
    const decoded = Array.from(
      new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
    );
    expect(decoded).toEqual(floats.data[0]?.embedding.map((value) => Math.fround(value)));
    // The openai client requests base64 when no format is given and decodes it itself.
    const byDefault = await server.openai.embeddings.create({ model, input: 'A bird' });
    expect(byDefault.data[0]?.embedding).toEqual(decoded);
  });

  it('takes token arrays as input, equal to the text they spell', async () => {
    const tokens = server.embedder.tokenize('The little cat');
    const [fromTokens, fromText] = await Promise.all([
      server.openai.embeddings.create({ model, input: [tokens], encoding_format: 'float' }),
      server.openai.embeddings.create({ model, input: 'The little cat', encoding_format: 'float' }),
    ]);
    expect(fromTokens.data[0]?.embedding).toEqual(fromText.data[0]?.embedding);
    const single = await server.openai.embeddings.create({
      model,
      input: tokens,
      encoding_format: 'float',
    });
    expect(single.data).toHaveLength(1);
  });

  it('lists the model with its dimensions', async () => {
    const models = await server.openai.models.list();
    expect(models.data.map((item) => item.id)).toEqual([model]);
    expect((models.data[0] as unknown as { dimensions: number }).dimensions).toBe(
      server.embedder.dimensions,
    );
  });

  it.each([
    ['an empty string', { input: '' }, 400, 'input'],
    ['an empty list', { input: [] }, 400, 'input'],
    ['a wrong type', { input: 42 }, 400, 'input'],
    ['an unknown model', { model: 'gpt-nope' }, 404, 'model'],
    ['a bad encoding_format', { encoding_format: 'hex' }, 400, 'encoding_format'],
    ['dimensions the model cannot give', { dimensions: 7 }, 400, 'dimensions'],
    ['a token id outside the vocabulary', { input: [[1, 2, 999999]] }, 400, 'input.0'],
    [
      'an input over the context, by index',
      { input: ['short', 'long '.repeat(3000)] },
      400,
      'input.1',
    ],
  ])('refuses %s with an OpenAI error naming the field', async (_label, change, status, param) => {
    const response = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'hello', ...change }),
    });
    expect(response.status).toBe(status);
    const body = (await response.json()) as {
      error: { message: string; param: string | null; type: string };
    };
    expect(body.error.param).toBe(param);
    expect(body.error.message.length).toBeGreaterThan(10);
    // The service keeps serving.
    const ok = await server.openai.embeddings.create({
      model,
      input: 'still here',
      encoding_format: 'float',
    });
    expect(ok.data).toHaveLength(1);
  });
});

describe('inputs at the edge of the context', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startEmbed();
  });
  afterAll(() => server.close());

  it('embeds the longest input the model takes, and refuses one token more with 400 (was a 500)', async () => {
    const longest = server.embedder.maxInputTokens;
    const ok = await server.openai.embeddings.create({
      model,
      input: Array.from({ length: longest }, () => 1),
    });
    expect(ok.data[0]?.embedding).toHaveLength(server.embedder.dimensions);
    const response = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: Array.from({ length: longest + 1 }, () => 1) }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'context_length_exceeded' } });
  });
});

describe("Ollama's /api/embed and /api/embeddings with the ollama client", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startEmbed();
  });
  afterAll(() => server.close());

  it('embed(): one vector per input, the same as /v1/embeddings gives, with counts', async () => {
    const ollama = new Ollama({ host: server.url });
    const texts = ['The cat sat.', 'A dog ran to the tree.'];
    const answer = await ollama.embed({ model, input: texts, keep_alive: '5m' });
    expect(answer.model).toBe(model);
    expect(answer.embeddings).toHaveLength(2);
    const openai = await server.openai.embeddings.create({ model, input: texts });
    for (const [index, vector] of answer.embeddings.entries()) {
      const other = openai.data[index]?.embedding ?? [];
      for (const [at, value] of vector.entries()) {
        expect(value).toBeCloseTo(other[at] ?? Number.NaN, 5);
      }
    }
    expect(answer.prompt_eval_count).toBe(
      texts.reduce((sum, text) => sum + server.embedder.tokenize(text).length, 0),
    );
  });

  it('embeddings(): the older form, one prompt, one embedding', async () => {
    const ollama = new Ollama({ host: server.url });
    const answer = await ollama.embeddings({ model, prompt: 'Once upon a time' });
    expect(answer.embedding).toHaveLength(server.embedder.dimensions);
  });

  it('truncates an input over the context by default, and refuses it with truncate: false', async () => {
    const ollama = new Ollama({ host: server.url });
    const long = 'the cat ran to the tree and '.repeat(400);
    const cut = await ollama.embed({ model, input: long });
    expect(cut.embeddings[0]).toHaveLength(server.embedder.dimensions);
    const refused = await fetch(`${server.url}/api/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: long, truncate: false }),
    });
    expect(refused.status).toBe(400);
    expect(Object.keys((await refused.json()) as object)).toEqual(['error']);
  });

  it('reads a body sent as curl -d sends it (a form type) as JSON, and knows name:latest', async () => {
    const response = await fetch(`${server.url}/api/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ model: `${model}:latest`, input: 'Once' }),
    });
    expect(response.status).toBe(200);
    const { embeddings } = (await response.json()) as { embeddings: number[][] };
    expect(embeddings[0]).toHaveLength(server.embedder.dimensions);
    const shortened = await fetch(`${server.url}/api/embed`, {
      method: 'POST',
      body: JSON.stringify({ model, input: 'Once', dimensions: 2 }),
    });
    expect(shortened.status).toBe(400);
    expect(await shortened.json()).toEqual({ error: expect.stringContaining("'dimensions'") });
  });

  it('answers errors in Ollama\'s shape: an unknown model is a 404 {"error"}', async () => {
    const response = await fetch(`${server.url}/api/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nope', input: 'x' }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: expect.stringContaining("The model 'nope' does not exist"),
    });
  });
});

describe('one large request among others', () => {
  const big = Array.from({ length: 2000 }, (_, index) => `${index} the cat ran to the big tree`);
  const post = (server: TestServer, input: string[], signal?: AbortSignal) =>
    fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input }),
      ...(signal ? { signal } : {}),
    });

  it('a one-input request is served between its inputs, not after all of them', async () => {
    const server = await startEmbed();
    try {
      const order: string[] = [];
      // The small one is sent once the large one's inputs are being embedded.
      const started = Promise.withResolvers<void>();
      const original = server.embedder.embed.bind(server.embedder);
      server.embedder.embed = (inputs, signal) => {
        const work = original(inputs, signal);
        if (inputs.length > 1) setTimeout(() => started.resolve(), 50);
        return work;
      };
      const large = post(server, big).then(() => order.push('large'));
      await started.promise;
      const small = post(server, ['Once upon a time']).then(() => order.push('small'));
      await Promise.all([large, small]);
      // First come, first served used to put it behind all 2,000 inputs.
      expect(order).toEqual(['small', 'large']);
    } finally {
      await server.close();
    }
  });

  it('a client that leaves has its inputs not yet started dropped', async () => {
    const server = await startEmbed();
    try {
      const outcomes: string[] = [];
      const original = server.embedder.embed.bind(server.embedder);
      server.embedder.embed = (inputs, signal) => {
        const work = original(inputs, signal);
        work.then(
          () => outcomes.push('done'),
          (error: unknown) => outcomes.push(String(error)),
        );
        return work;
      };
      const controller = new AbortController();
      const request = post(server, big, controller.signal).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      await request;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(outcomes).toEqual(['Error: the client closed the connection']);
    } finally {
      await server.close();
    }
  });

  it('refuses a request over EMBED_MAX_REQUEST_TOKENS with 413 naming the limit', async () => {
    const server = await startEmbed({ EMBED_MAX_REQUEST_TOKENS: '100' });
    try {
      const response = await post(server, big.slice(0, 50));
      expect(response.status).toBe(413);
      const { error } = (await response.json()) as { error: { message: string; param: string } };
      expect(error.message).toContain('EMBED_MAX_REQUEST_TOKENS');
      expect(error.param).toBe('input');
    } finally {
      await server.close();
    }
  });
});

describe('shutting down under running work', () => {
  it('finishes the embedding work it accepted before freeing the model', async () => {
    const server = await startEmbed();
    const response = fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        input: Array.from({ length: 2000 }, (_, index) => `${index} the cat ran to the big tree`),
      }),
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Used to free the model under the running work: the request failed ("Object is disposed").
    const disposed = server.embedder.dispose();
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { data: unknown[] }).data).toHaveLength(2000);
    await disposed;
    await expect(server.embedder.embed([[1, 2] as never])).rejects.toBeInstanceOf(
      EmbedderClosedError,
    );
    await server.app.close();
  });
});
