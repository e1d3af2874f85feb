import { fileURLToPath } from 'node:url';
import { OtlpReceiver, spawnService } from '@hrserve/test-support';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORIES_MODEL } from './__fixtures__/embed-server.js';

const EMBED_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The built service as its unit runs it: telemetry preloaded, config from the environment. */
function spawnEmbed(env: Record<string, string>) {
  return spawnService({ cwd: EMBED_ROOT, env: { EMBED_MODEL: STORIES_MODEL, ...env } });
}

describe('embed as a process', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterAll(() => receiver.stop());

  it('exports an embeddings span as embed-api, with health and metrics through hrserve', async () => {
    const service = await spawnEmbed({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    });
    try {
      await service.waitForLog((line) => line.msg === 'model loaded');
      const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const { data, response } = await openai.embeddings
        .create(
          { model: 'stories260K', input: ['a cat', 'a dog'] },
          { query: { client_job_id: 'job-embed-1' } },
        )
        .withResponse();
      expect(data.data).toHaveLength(2);
      const traceId = response.headers.get('x-trace-id');
      const spans = await receiver.waitFor((all) =>
        all.some((span) => span.traceId === traceId && span.name === 'embeddings stories260K'),
      );
      const span = spans.find(
        (candidate) => candidate.traceId === traceId && candidate.name === 'embeddings stories260K',
      );
      expect(span?.resource['service.name']).toBe('embed-api');
      expect(span?.attributes).toMatchObject({
        'gen_ai.operation.name': 'embeddings',
        'gen_ai.request.model': 'stories260K',
        'gen_ai.usage.input_tokens': data.usage.prompt_tokens,
        'embed.inputs': 2,
        client_job_id: 'job-embed-1',
      });
      // Under the request's one HTTP server span (OTLP kind 2).
      await receiver.waitFor((all) =>
        all.some((candidate) => candidate.traceId === traceId && candidate.kind === 2),
      );
      const servers = receiver.spans.filter(
        (candidate) => candidate.traceId === traceId && candidate.kind === 2,
      );
      expect(servers.map((server) => server.name)).toEqual(['POST /v1/embeddings']);
      expect(span?.parentSpanId).toBe(servers[0]?.spanId);

      const health = (await (await fetch(`${service.url}/health`)).json()) as {
        status: string;
        service: string;
        model: string | null;
        models: Array<{ id: string; dimensions: number }>;
      };
      // The platform's contract: `model` is the id clients name; details under `models`.
      expect(health).toMatchObject({ status: 'ok', service: 'embed', model: 'stories260K' });
      expect(health.models[0]?.dimensions).toBe(data.data[0]?.embedding.length);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(
        /embed_inputs_total\{[^}]*gen_ai_request_model="stories260K"[^}]*\} 2/,
      );
      expect(metrics).toMatch(
        /gen_ai_server_request_duration_seconds_count\{[^}]*gen_ai_operation_name="embeddings"[^}]*\} 1/,
      );
    } finally {
      await service.stop();
    }
  });

  it('exits 1 naming a missing model file, and 78 without EMBED_MODEL', async () => {
    const missing = await spawnEmbed({ EMBED_MODEL: '/nonexistent/e.gguf' });
    expect(await missing.exited).toEqual({ code: 1, signal: null });
    expect(missing.stderr()).toMatch(
      /EMBED_MODEL is "\/nonexistent\/e\.gguf", but no file exists there/,
    );
    await expect(spawnService({ cwd: EMBED_ROOT, env: {} })).rejects.toThrow(
      /exited \(78\)[\s\S]*EMBED_MODEL/,
    );
  });
});
