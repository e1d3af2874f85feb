import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbed, type TestServer } from '../__fixtures__/embed-server.js';

const model = 'stories260K';

function embeddingLine(id: string, input: unknown, body: Record<string, unknown> = {}) {
  return { custom_id: id, method: 'POST', url: '/v1/embeddings', body: { model, input, ...body } };
}

describe('embedding batches with the openai client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startEmbed({ DATA_DIR: await mkdtemp(join(tmpdir(), 'embed-batches-')) });
  });
  afterAll(() => server?.close());

  async function run(lines: unknown[]): Promise<Batch> {
    const file = await server.openai.files.create({
      file: await toFile(
        Buffer.from(`${lines.map((line) => JSON.stringify(line)).join('\n')}\n`),
        'e.jsonl',
      ),
      purpose: 'batch',
    });
    const created = await server.openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/embeddings',
      completion_window: '24h',
    });
    for (let attempt = 0; attempt < 600; attempt++) {
      const batch = await server.openai.batches.retrieve(created.id);
      if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) return batch;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`batch ${created.id} did not finish`);
  }

  async function lines(fileId: string | null | undefined) {
    if (!fileId) return [];
    const text = await (await server.openai.files.content(fileId)).text();
    return text
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as {
            custom_id: string;
            response: { status_code: number; body: { data?: Array<{ embedding: number[] }> } };
          },
      );
  }

  it('embeds every line, each vector the one a direct request gives; a missing model is in the error file', async () => {
    const texts = ['The cat sat.', 'A dog ran.', 'Lily liked the sea.', 'Tom'];
    const batch = await run([
      ...texts.map((text, i) => embeddingLine(`e${i}`, text)),
      embeddingLine('two', ['Once', 'upon']),
      embeddingLine('missing', 'x', { model: 'no-such-model' }),
    ]);
    expect(batch).toMatchObject({
      status: 'completed',
      endpoint: '/v1/embeddings',
      request_counts: { total: 6, completed: 5, failed: 1 },
    });
    expect(batch.usage?.input_tokens).toBeGreaterThan(0);
    const output = await lines(batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(['e0', 'e1', 'e2', 'e3', 'two']);
    const direct = await server.openai.embeddings.create({
      model,
      input: texts,
      encoding_format: 'float',
    });
    for (const [index, line] of output.slice(0, 4).entries()) {
      expect(line.response.status_code).toBe(200);
      expect(line.response.body.data?.[0]?.embedding).toEqual(direct.data[index]?.embedding);
    }
    expect(output[4]?.response.body.data).toHaveLength(2);
    const errors = await lines(batch.error_file_id);
    expect(errors).toEqual([
      expect.objectContaining({
        custom_id: 'missing',
        response: expect.objectContaining({ status_code: 404 }),
      }),
    ]);
  });

  it("fails a batch with a line the route would refuse, naming it; a chat batch is not embed's", async () => {
    const batch = await run([
      embeddingLine('ok', 'fine'),
      { custom_id: 'bad', method: 'POST', url: '/v1/embeddings', body: { model } },
    ]);
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data).toEqual([expect.objectContaining({ line: 2, param: 'body.input' })]);
    const file = await server.openai.files.create({
      file: await toFile(Buffer.from('{}\n'), 'x.jsonl'),
      purpose: 'batch',
    });
    await expect(
      server.openai.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'endpoint' } });
  });
});
