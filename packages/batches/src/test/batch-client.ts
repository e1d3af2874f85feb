import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { expect } from 'vitest';
import type { EchoService } from '../__fixtures__/echo-service.js';

/** A line of an output or error file, as a test reads it. */
export interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

export const FINISHED = ['completed', 'failed', 'cancelled', 'expired'];

/** The official client against a test service. */
export function clientOf(service: Pick<EchoService, 'url'>, apiKey = 'none') {
  return new OpenAI({ baseURL: `${service.url}/v1`, apiKey, maxRetries: 0 });
}

export function jsonl(lines: unknown[]): string {
  return `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`;
}

export function echoLine(id: string, body: Record<string, unknown> = {}) {
  return {
    custom_id: id,
    method: 'POST',
    url: '/v1/echo',
    body: { model: 'm', text: id, ...body },
  };
}

/** Polls until the batch is in one of `statuses` (bounded: 30 s). */
export async function waitFor(client: OpenAI, id: string, statuses = FINISHED): Promise<Batch> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const batch = await client.batches.retrieve(id);
    if (statuses.includes(batch.status)) return batch;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`batch ${id} never reached ${statuses.join('/')}`);
}

export async function upload(client: OpenAI, content: string, name = 'input.jsonl') {
  return client.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'batch' });
}

export async function linesOf(client: OpenAI, fileId: string | null | undefined) {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as OutputLine);
}

export async function runBatch(client: OpenAI, lines: unknown[]) {
  const file = await upload(client, jsonl(lines));
  const created = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/echo' as '/v1/completions',
    completion_window: '24h',
    metadata: { purpose: 'test' },
  });
  expect(created).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id });
  return waitFor(client, created.id);
}
