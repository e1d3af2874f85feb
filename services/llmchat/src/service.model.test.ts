import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OtlpReceiver, spawnService } from '@hrserve/test-support';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORIES_MODEL } from './__fixtures__/llmchat-server.js';

const LLMCHAT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The built service as its unit runs it: telemetry preloaded, config from the environment. */
function spawnLlmchat(env: Record<string, string>) {
  return spawnService({ cwd: LLMCHAT_ROOT, env: { LLMCHAT_MODEL: STORIES_MODEL, ...env } });
}

/** The SERVER spans (OTLP kind 2) of a trace, once the first has been received. */
async function serverSpansOf(receiver: OtlpReceiver, traceId: string | null) {
  const servers = () =>
    receiver.spans.filter((span) => span.traceId === traceId && span.kind === 2);
  await receiver.waitFor(() => servers().length > 0);
  return servers();
}

describe('llmchat as a process', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterAll(() => receiver.stop());

  it('exports one GenAI span per completion, with the queue wait as a child', async () => {
    const service = await spawnLlmchat({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    });
    try {
      await service.waitForLog((line) => line.msg === 'model loaded');
      const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const { data: completion, response } = await openai.chat.completions
        .create(
          {
            model: 'stories260K',
            messages: [
              { role: 'system', content: 'Tell a story.' },
              { role: 'user', content: 'A cat' },
            ],
            max_tokens: 8,
            temperature: 0.5,
            top_p: 0.9,
            tools: [
              {
                type: 'function',
                function: { name: 'noop', parameters: { type: 'object', properties: {} } },
              },
            ],
            tool_choice: 'none',
          },
          { query: { client_job_id: 'job-span-1' } },
        )
        .withResponse();
      const traceId = response.headers.get('x-trace-id');
      const spans = await receiver.waitFor((all) =>
        all.some((span) => span.traceId === traceId && span.name === 'chat stories260K'),
      );
      const chat = spans.find(
        (span) => span.traceId === traceId && span.name === 'chat stories260K',
      );
      expect(chat?.resource['service.name']).toBe('llmchat-api');
      expect(chat?.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'llama.cpp',
        'gen_ai.request.model': 'stories260K',
        'gen_ai.request.max_tokens': 8,
        'gen_ai.request.temperature': 0.5,
        'gen_ai.request.top_p': 0.9,
        'gen_ai.response.id': completion.id,
        'gen_ai.usage.input_tokens': completion.usage?.prompt_tokens,
        'gen_ai.usage.output_tokens': completion.usage?.completion_tokens,
        model: 'stories260K',
        streaming: false,
        num_messages: 2,
        num_tools: 1,
        client_job_id: 'job-span-1',
      });
      expect(typeof chat?.attributes['llmchat.time_to_first_token_ms']).toBe('number');
      const queue = spans.find(
        (span) => span.traceId === traceId && span.name === 'llmchat.queue_wait',
      );
      expect(queue?.parentSpanId).toBe(chat?.spanId);
      // The completion span sits under the request's one HTTP server span.
      const servers = await serverSpansOf(receiver, traceId);
      expect(servers).toHaveLength(1);
      expect(servers[0]?.name).toBe('POST /v1/chat/completions');
      expect(servers[0]?.attributes.client_job_id).toBe('job-span-1');
      expect(chat?.parentSpanId).toBe(servers[0]?.spanId);

      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(
        /gen_ai_server_time_to_first_token_seconds_count\{[^}]*gen_ai_request_model="stories260K"[^}]*\} 1/,
      );
      expect(metrics).toMatch(
        /gen_ai_server_token_usage_total\{[^}]*gen_ai_token_type="output"[^}]*\} [1-8]\b/,
      );
      expect(metrics).toContain('llmchat_requests_running');
      // Per loaded model: loaded, running, waiting, KV cache (idle now: nothing held).
      expect(metrics).toMatch(
        /llmchat_model_loaded\{[^}]*gen_ai_request_model="stories260K"[^}]*\} 1/,
      );
      expect(metrics).toMatch(/llmchat_model_requests_running\{[^}]*"stories260K"[^}]*\} 0/);
      expect(metrics).toMatch(/llmchat_kv_cache_usage_ratio\{[^}]*"stories260K"[^}]*\} 0/);
      // While an answer runs, its sequence holds part of the KV cache.
      const running = fetch(`${service.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'stories260K',
          messages: [{ role: 'user', content: 'Once upon a time' }],
          max_tokens: 1500,
          ignore_eos: true,
        }),
      });
      let busy = '';
      for (let attempt = 0; attempt < 200 && !busy; attempt++) {
        const text = await (await fetch(`${service.url}/metrics`)).text();
        const ratio = /llmchat_kv_cache_usage_ratio\{[^}]*"stories260K"[^}]*\} (\S+)/.exec(
          text,
        )?.[1];
        if (Number(ratio) > 0) busy = text;
        else await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(busy).toMatch(/llmchat_model_requests_running\{[^}]*"stories260K"[^}]*\} 1/);
      await (await running).arrayBuffer();

      // A streamed answer: still one server span, ended with the stream, the completion under it.
      const { data: stream, response: streamed } = await openai.chat.completions
        .create({
          model: 'stories260K',
          messages: [{ role: 'user', content: 'A dog' }],
          max_tokens: 8,
          stream: true,
        })
        .withResponse();
      for await (const _chunk of stream) {
        // read to the end
      }
      const streamTraceId = streamed.headers.get('x-trace-id');
      const streamServers = await serverSpansOf(receiver, streamTraceId);
      expect(streamServers.map((span) => span.name)).toEqual(['POST /v1/chat/completions']);
      const streamChat = receiver.spans.find(
        (span) => span.traceId === streamTraceId && span.name === 'chat stories260K',
      );
      expect(streamChat?.parentSpanId).toBe(streamServers[0]?.spanId);
    } finally {
      await service.stop();
    }
  });

  it('exports a span per batch and per line, each line linked to its batch, client_job_id the batch id', async () => {
    const service = await spawnLlmchat({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      DATA_DIR: await mkdtemp(join(tmpdir(), 'llmchat-batch-spans-')),
    });
    try {
      await service.waitForLog((line) => line.msg === 'model loaded');
      const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const lines = ['a', 'b'].map((id) => ({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'stories260K', messages: [{ role: 'user', content: id }], max_tokens: 4 },
      }));
      const file = await openai.files.create({
        file: await toFile(
          Buffer.from(lines.map((line) => JSON.stringify(line)).join('\n')),
          'b.jsonl',
        ),
        purpose: 'batch',
      });
      const batch = await openai.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      const spans = await receiver.waitFor(
        (all) =>
          all.filter((span) => span.attributes['batch.id'] === batch.id).length >= 4 &&
          all.filter(
            (span) =>
              span.attributes.client_job_id === batch.id && span.name === 'chat stories260K',
          ).length >= 2,
        30_000,
      );
      const batchSpan = spans.find((span) => span.name === `batch ${batch.id}`);
      expect(batchSpan?.attributes).toMatchObject({
        client_job_id: batch.id,
        'batch.endpoint': '/v1/chat/completions',
      });
      const lineSpans = spans.filter(
        (span) =>
          span.name === 'batch line /v1/chat/completions' &&
          span.attributes['batch.id'] === batch.id,
      );
      expect(lineSpans.map((span) => span.attributes['batch.custom_id']).sort()).toEqual([
        'a',
        'b',
      ]);
      for (const line of lineSpans) {
        expect(line.attributes.client_job_id).toBe(batch.id);
        expect(line.links).toEqual([
          expect.objectContaining({ traceId: batchSpan?.traceId, spanId: batchSpan?.spanId }),
        ]);
        // The line's completion runs under it, with client_job_id the batch id.
        const chat = spans.find(
          (span) => span.traceId === line.traceId && span.name === 'chat stories260K',
        );
        expect(chat?.parentSpanId).toBe(line.spanId);
        expect(chat?.attributes.client_job_id).toBe(batch.id);
      }
      const finalize = await receiver.waitFor((all) =>
        all.some((span) => span.name === `batch finalize ${batch.id}`),
      );
      expect(
        finalize.find((span) => span.name === `batch finalize ${batch.id}`)?.links[0]?.spanId,
      ).toBe(batchSpan?.spanId);
    } finally {
      await service.stop();
    }
  });

  it('answers /health "loading" (503) before the model is ready, then "ok"', async () => {
    const service = await spawnLlmchat({});
    try {
      const early = await fetch(`${service.url}/health`);
      const earlyBody = (await early.json()) as { status: string };
      if (earlyBody.status !== 'ok') {
        expect(early.status).toBe(503);
        expect(earlyBody.status).toBe('loading');
      }
      await service.waitForLog((line) => line.msg === 'model loaded');
      const ready = await fetch(`${service.url}/health`);
      expect(ready.status).toBe(200);
    } finally {
      await service.stop();
    }
  });

  it.each([
    [
      'a missing file',
      { LLMCHAT_MODEL: '/nonexistent/model.gguf' },
      /LLMCHAT_MODEL names "\/nonexistent\/model\.gguf".*no file exists there\. Point it at a \.gguf file/,
    ],
    [
      'a memory budget too small',
      { LLMCHAT_MEMORY_BUDGET_MB: '1' },
      /needs about \d+ MiB of RAM .* over LLMCHAT_MEMORY_BUDGET_MB=1/,
    ],
  ])('exits 1 with what is wrong and how to fix it: %s', async (_label, env, message) => {
    const service = await spawnLlmchat(env);
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.stderr()).toMatch(message);
  });

  it('exits 1 on a corrupt model file, never serving garbage', async () => {
    const corrupt = join(tmpdir(), `corrupt-${process.pid}.gguf`);
    await writeFile(corrupt, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(4096, 7)]));
    const service = await spawnLlmchat({ LLMCHAT_MODEL: corrupt });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.stderr()).toMatch(/not a readable GGUF model|could not load/);
  });

  it('LLMCHAT_GPU=cuda on a host without CUDA: one line saying what to do, exit 78 (no restart)', async () => {
    const service = await spawnLlmchat({ LLMCHAT_GPU: 'cuda' });
    // The test machines have no CUDA (a CUDA host would serve instead).
    expect(await service.exited).toEqual({ code: 78, signal: null });
    const said = service
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('llmchat: '));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/LLMCHAT_GPU=cuda asked for CUDA, .*Set LLMCHAT_GPU=auto/);
    expect(service.stderr()).not.toMatch(/NoBinaryFoundError|^\s+at /m);
  });

  it('refuses to start with no models to serve, naming the settings (exit 78)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'no-models-'));
    const failed = spawnService({ cwd: LLMCHAT_ROOT, env: { LLMCHAT_MODELS_DIR: empty } });
    await expect(failed).rejects.toThrow(
      /exited \(78\)[\s\S]*No models to serve\. Set LLMCHAT_MODEL [\s\S]*LLMCHAT_MODELS, [\s\S]*LLMCHAT_MODELS_DIR/,
    );
  });
});
