import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EchoService, startEchoService } from './__fixtures__/echo-service.js';
import { FileStorage } from './file-storage.js';
import {
  clientOf,
  echoLine,
  jsonl,
  linesOf,
  runBatch,
  upload,
  waitFor,
} from './test/batch-client.js';

describe('files', () => {
  let service: EchoService;
  let client: OpenAI;
  beforeAll(async () => {
    service = await startEchoService();
    client = clientOf(service);
  });
  afterAll(() => service?.close());

  it('uploads, lists, retrieves, reads back and deletes a file', async () => {
    const content = jsonl([echoLine('a'), echoLine('b')]);
    const file = await upload(client, content, 'two.jsonl');
    expect(file).toMatchObject({
      object: 'file',
      purpose: 'batch',
      filename: 'two.jsonl',
      bytes: Buffer.byteLength(content),
      status: 'processed',
    });
    expect(await client.files.retrieve(file.id)).toEqual(file);
    expect(await (await client.files.content(file.id)).text()).toBe(content);
    const listed = await client.files.list({ purpose: 'batch', limit: 100 });
    expect(listed.data.map((item) => item.id)).toContain(file.id);
    expect(
      (await client.files.list({ purpose: 'batch_output' })).data.map((f) => f.id),
    ).not.toContain(file.id);
    expect(await client.files.delete(file.id)).toEqual({
      id: file.id,
      object: 'file',
      deleted: true,
    });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });

  it('sends back a file named in any script, with its name in the download header', async () => {
    const file = await upload(client, jsonl([echoLine('u')]), 'données-数据.jsonl');
    expect(file.filename).toBe('données-数据.jsonl');
    const response = await fetch(`${service.url}/v1/files/${file.id}/content`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="donn_es-__.jsonl"; filename*=UTF-8''${encodeURIComponent('données-数据.jsonl')}`,
    );
    expect(await response.text()).toBe(jsonl([echoLine('u')]));
  });

  it('pages the list with after and limit', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await upload(client, jsonl([echoLine(`p${i}`)]))).id);
    const first = await client.files.list({ limit: 2, order: 'asc', purpose: 'batch' });
    expect(first.has_more).toBe(true);
    const all = [];
    for await (const file of client.files.list({ limit: 2, order: 'asc', purpose: 'batch' }))
      all.push(file.id);
    expect(all.slice(-3)).toEqual(ids);
  });

  it('refuses an upload over the size or line limit (413, 400), keeping nothing', async () => {
    const before = (await readdir(join(service.filesDir))).length;
    await expect(upload(client, 'x'.repeat(70 * 1024))).rejects.toMatchObject({
      status: 413,
      error: { param: 'file', message: expect.stringContaining('ECHO_MAX_FILE_BYTES') },
    });
    const many = jsonl(Array.from({ length: 101 }, (_, i) => echoLine(`l${i}`, { text: '' })));
    await expect(upload(client, many)).rejects.toMatchObject({
      status: 400,
      error: { code: 'too_many_lines', message: expect.stringContaining('101 lines') },
    });
    expect((await readdir(service.filesDir)).length).toBe(before);
  });

  it('answers bad uploads and unknown ids with a clear 4xx', async () => {
    const form = new FormData();
    form.set('file', new Blob(['{}\n']), 'x.jsonl');
    form.set('purpose', 'fine-tune');
    const wrongPurpose = await fetch(`${service.url}/v1/files`, { method: 'POST', body: form });
    expect(wrongPurpose.status).toBe(400);
    expect(await wrongPurpose.json()).toMatchObject({ error: { param: 'purpose' } });
    const noFile = new FormData();
    noFile.set('purpose', 'batch');
    const missing = await fetch(`${service.url}/v1/files`, { method: 'POST', body: noFile });
    expect(await missing.json()).toMatchObject({ error: { param: 'file' } });
    const json = await fetch(`${service.url}/v1/files`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    await expect(client.files.retrieve('file-nope')).rejects.toMatchObject({ status: 404 });
    await expect(client.files.content('file-nope')).rejects.toMatchObject({ status: 404 });
    await expect(client.files.delete('file-nope')).rejects.toMatchObject({ status: 404 });
  });
});

describe('batches', () => {
  let service: EchoService;
  let client: OpenAI;
  beforeAll(async () => {
    service = await startEchoService();
    client = clientOf(service);
  });
  afterAll(() => service?.close());

  it('runs every line through the route at batch priority and writes output and error files', async () => {
    const lines = [
      ...Array.from({ length: 8 }, (_, i) => echoLine(`ok-${i}`)),
      echoLine('no-model', { model: 'missing' }),
    ];
    const batch = await runBatch(client, lines);
    expect(batch).toMatchObject({
      status: 'completed',
      endpoint: '/v1/echo',
      request_counts: { total: 9, completed: 8, failed: 1 },
      metadata: { purpose: 'test' },
      errors: null,
    });
    expect(batch.in_progress_at).toBeGreaterThanOrEqual(batch.created_at);
    expect(batch.completed_at).toBeGreaterThanOrEqual(batch.finalizing_at ?? 0);
    expect(batch.usage).toMatchObject({ input_tokens: 8, output_tokens: 16, total_tokens: 24 });
    const output = await linesOf(client, batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(lines.slice(0, 8).map((l) => l.custom_id));
    for (const line of output) {
      expect(line).toMatchObject({
        id: expect.stringMatching(/^batch_req_/),
        response: { status_code: 200, body: { text: line.custom_id, priority: 'batch' } },
        error: null,
      });
      expect(line.response?.request_id).toBe(line.id);
    }
    const errors = await linesOf(client, batch.error_file_id);
    expect(errors).toEqual([
      expect.objectContaining({
        custom_id: 'no-model',
        response: expect.objectContaining({
          status_code: 404,
          body: { error: expect.objectContaining({ param: 'model' }) },
        }),
        error: null,
      }),
    ]);
    const outputFile = await client.files.retrieve(String(batch.output_file_id));
    expect(outputFile).toMatchObject({
      purpose: 'batch_output',
      filename: `${batch.id}_output.jsonl`,
    });
    expect((await client.batches.list({ limit: 100 })).data.map((b) => b.id)).toContain(batch.id);
  });

  it('validates the whole file first: invalid lines fail the batch, naming each line, and nothing runs', async () => {
    const begun = service.begun.length;
    const batch = await runBatch(client, [
      echoLine('fine'),
      '{not json',
      echoLine('fine'),
      { ...echoLine('wrong-url'), url: '/v1/other' },
      { ...echoLine('get'), method: 'GET' },
      echoLine('bad-body', { text: 3 }),
      echoLine('streamed', { stream: true }),
      { method: 'POST', url: '/v1/echo', body: {} },
    ]);
    expect(batch.status).toBe('failed');
    expect(batch.failed_at).toBeGreaterThan(0);
    expect(batch.errors?.data?.map((error) => [error.line, error.code, error.param])).toEqual([
      [2, 'invalid_json_line', null],
      [3, 'duplicate_custom_id', 'custom_id'],
      [4, 'mismatched_url', 'url'],
      [5, 'invalid_method', 'method'],
      [6, 'invalid_body', 'body.text'],
      [7, 'invalid_body', 'body.stream'],
      [8, 'missing_custom_id', 'custom_id'],
    ]);
    expect(batch.output_file_id ?? null).toBeNull();
    expect(service.begun.length).toBe(begun);
  });

  it('fails an empty file', async () => {
    const batch = await runBatch(client, ['', '  ']);
    expect(batch.errors?.data).toEqual([expect.objectContaining({ code: 'empty_file' })]);
  });

  it('refuses a batch for another endpoint, an unknown file, a bad window or an output file', async () => {
    const file = await upload(client, jsonl([echoLine('x')]));
    await expect(
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'endpoint' } });
    await expect(
      client.batches.create({
        input_file_id: 'file-nope',
        endpoint: '/v1/echo' as '/v1/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 404, error: { param: 'input_file_id' } });
    await expect(
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/echo' as '/v1/completions',
        completion_window: '1h' as '24h',
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'completion_window' } });
    await expect(client.batches.retrieve('batch_nope')).rejects.toMatchObject({ status: 404 });
    await expect(client.batches.cancel('batch_nope')).rejects.toMatchObject({ status: 404 });
  });

  it('cancels a running batch: what finished is kept, the rest never runs; a finished batch cannot be cancelled', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => echoLine(`slow-${i}`, { delay_ms: 300 }));
    const file = await upload(client, jsonl(lines));
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/echo' as '/v1/completions',
      completion_window: '24h',
    });
    const running = await waitFor(client, created.id, ['in_progress']);
    expect(running.request_counts?.total).toBe(12);
    // Let a couple finish.
    for (
      let i = 0;
      i < 100 && ((await client.batches.retrieve(created.id)).request_counts?.completed ?? 0) < 2;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cancelling = await client.batches.cancel(created.id);
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    const cancelled = await waitFor(client, created.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).toBeGreaterThan(0);
    const output = await linesOf(client, cancelled.output_file_id);
    expect(output.length).toBe(cancelled.request_counts?.completed);
    expect(output.length).toBeGreaterThanOrEqual(2);
    expect(output.length).toBeLessThan(12);
    const begun = service.begun.filter((text) => text.startsWith('slow-')).length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(service.begun.filter((text) => text.startsWith('slow-')).length).toBe(begun);
    await expect(client.batches.cancel(created.id)).rejects.toMatchObject({
      status: 409,
      error: { code: 'batch_not_cancellable' },
    });
  });
});

describe('a batch whose output cannot be written', () => {
  it('fails with a message when the disk is full, leaving no partial file', async () => {
    const filesDir = await mkdtemp(join(tmpdir(), 'hrserve-files-'));
    const names: string[] = [];
    const storage = new FileStorage(
      filesDir,
      () => names.shift() ?? randomUUID().replaceAll('-', ''),
    );
    const service = await startEchoService({ filesDir, batch: { storage } });
    try {
      const client = clientOf(service);
      const file = await upload(client, jsonl([echoLine('a'), echoLine('b')]));
      // The output files are written to /dev/full: ENOSPC from the kernel.
      names.push('out', 'err');
      for (const name of names) await symlink('/dev/full', join(filesDir, `${name}.partial`));
      const created = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/echo' as '/v1/completions',
        completion_window: '24h',
      });
      const batch = await waitFor(client, created.id);
      expect(batch.status).toBe('failed');
      expect(batch.errors?.data?.[0]).toMatchObject({
        code: 'output_write_failed',
        message: expect.stringContaining('no space left on the device'),
      });
      expect(batch.output_file_id ?? null).toBeNull();
      const left = await readdir(service.filesDir);
      expect(
        left.filter((name) => name === 'out' || name === 'err' || name.endsWith('.partial')),
      ).toEqual([]);
      // The service goes on: the next batch completes.
      const next = await runBatch(client, [echoLine('c')]);
      expect(next.status).toBe('completed');
    } finally {
      await service.close();
    }
  });
});
