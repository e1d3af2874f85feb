import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService } from '@hrserve/test-support/spawn';
import { checkStream } from '../sse.js';
import {
  LLMCHAT_ROOT,
  MODEL,
  MODELS_DIR,
  median,
  modelLog,
  type ScenarioResult,
  startLlmchat,
} from '../target.js';

/** Loaded on demand while SIGTERM arrives. */
const LOADING_MODEL = 'synth-30M-q8_0';

const ask = (url: string, extra: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
      ...extra,
    }),
  });

async function latencies(url: string, count: number): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const response = await ask(url);
    await response.arrayBuffer();
    if (response.status !== 200) failed += 1;
    ms.push(performance.now() - started);
  }
  return { ms, failed };
}

/** A TCP server that accepts connections and never answers: a collector that black-holes. */
async function blackHole(): Promise<{ endpoint: string; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { endpoint: `http://127.0.0.1:${port}`, server };
}

/**
 * The OTLP collector down or black-holing: latency as with telemetry off, no crash. The
 * three services run at once and are asked in turn, round after round, so drift on the
 * machine (another job, a slow minute) weighs on all three alike.
 */
export async function collectorScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const hole = await blackHole();
  const cases = [
    ['telemetry off', { OTEL_SDK_DISABLED: 'true' }],
    [
      'collector down',
      { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
    ],
    [
      'collector black-holing',
      { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: hole.endpoint },
    ],
  ] as const;
  const figures: Record<string, string> = {};
  const services = await Promise.all(cases.map(([, env]) => startLlmchat(env)));
  try {
    for (const service of services) await latencies(service.url, 5); // warm-up
    const measured = cases.map(() => ({ ms: [] as number[], failed: 0 }));
    for (let round = 0; round < 30; round++) {
      for (let turn = 0; turn < cases.length; turn++) {
        // Each round starts with another service, so none is always first.
        const index = (round + turn) % cases.length;
        const one = await latencies(services[index]?.url ?? '', 1);
        const into = measured[index];
        if (!into) continue;
        into.ms.push(...one.ms);
        into.failed += one.failed;
      }
    }
    const baseline = median(measured[0]?.ms ?? []);
    cases.forEach(([label], index) => {
      const { ms, failed } = measured[index] ?? { ms: [], failed: 0 };
      const value = median(ms);
      figures[`${label}: median latency (ms)`] = value.toFixed(1);
      if (failed > 0) failures.push(`${label}: ${failed} requests failed`);
      if (index > 0 && value > baseline * 1.25 + 5)
        failures.push(
          `${label}: median ${value.toFixed(1)} ms vs ${baseline.toFixed(1)} ms with telemetry off`,
        );
    });
  } finally {
    // A graceful stop: telemetry's flush to a collector that is down or silent must stay bounded.
    await Promise.all(
      services.map(async (service, index) => {
        const label = cases[index]?.[0] ?? '';
        const stopped = performance.now();
        service.child.kill('SIGTERM');
        const exit = await service.exited;
        figures[`${label}: stop after SIGTERM (ms)`] = (performance.now() - stopped).toFixed(0);
        if (exit.code !== 0) failures.push(`${label}: exited ${exit.code ?? exit.signal}`);
      }),
    );
  }
  hole.server.close();
  return { name: 'faults: OTLP collector down or black-holing', figures, failures };
}

/**
 * SIGTERM with streams in flight and a model load mid-way (issue 17, item 5):
 * the streams complete, the request whose model was loading is answered once
 * it has loaded, new requests get 503, exit 0 within the drain timeout.
 */
export async function sigtermScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const service = await startLlmchat({ DRAIN_TIMEOUT_MS: '20000', LLMCHAT_MODELS_DIR: MODELS_DIR });
  const streams = await Promise.all(
    Array.from({ length: 4 }, () =>
      ask(service.url, { stream: true, max_tokens: 300, ignore_eos: true }),
    ),
  );
  const reading = streams.map((response) => checkStream(response));
  // A request for a model not loaded yet: SIGTERM arrives while it loads.
  const loading = ask(service.url, { model: LOADING_MODEL, max_tokens: 16, ignore_eos: true }).then(
    async (response) => ({
      status: response.status,
      tokens: ((await response.json()) as { usage?: { completion_tokens: number } }).usage
        ?.completion_tokens,
    }),
    () => ({ status: 0, tokens: undefined }),
  );
  const loaded = modelLog(service, 'model loaded', LOADING_MODEL, 30_000).catch(() => undefined);
  await modelLog(service, 'loading model', LOADING_MODEL, 30_000);
  const signalledAt = Date.now();
  const signalled = performance.now();
  service.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const late = await ask(service.url)
    .then((response) => ({
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
    }))
    .catch(() => ({ status: 0, retryAfter: null }));
  const checked = await Promise.all(reading);
  const loadedLine = await loaded;
  const loadedDuring = loadedLine !== undefined && Number(loadedLine.time) > signalledAt;
  const midLoad = await loading;
  const exit = await service.exited;
  const exitMs = performance.now() - signalled;
  if (!loadedDuring)
    failures.push('the model had loaded before SIGTERM: the load mid-way was not tested');
  if (midLoad.status !== 200 || midLoad.tokens !== 16)
    failures.push(
      `the request whose model was loading got ${midLoad.status} (${midLoad.tokens} tokens)`,
    );
  const broken = checked.filter((result) => result.problems.length > 0);
  if (broken.length > 0)
    failures.push(`${broken.length} in-flight streams broken: ${broken[0]?.problems.join('; ')}`);
  if (late.status !== 503)
    failures.push(`a request during the drain got ${late.status}, expected 503`);
  if (exit.code !== 0) failures.push(`exit code ${exit.code} (signal ${exit.signal})`);
  if (exitMs > 20_000) failures.push(`took ${exitMs.toFixed(0)} ms to exit`);
  return {
    name: 'faults: SIGTERM under load, a model load mid-way',
    figures: {
      'in-flight streams completed': `${checked.length - broken.length}/${checked.length}`,
      'request whose model was loading at SIGTERM': `${midLoad.status}, ${midLoad.tokens ?? 0}/16 tokens`,
      'request while draining': `${late.status} (Retry-After ${late.retryAfter ?? '-'})`,
      'exit code': exit.code ?? `signal ${exit.signal}`,
      'exit after SIGTERM (ms)': exitMs.toFixed(0),
    },
    failures,
  };
}

/** kill -9, then a restart on the same port: healthy and answering again. */
export async function killScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const first = await startLlmchat();
  const port = new URL(first.url).port;
  first.child.kill('SIGKILL');
  await first.exited;
  const restarted = performance.now();
  const second = await startLlmchat({ PORT: port });
  const readyMs = performance.now() - restarted;
  try {
    const status = (await fetch(`${second.url}/health`)).status;
    const answer = (await ask(second.url)).status;
    if (status !== 200 || answer !== 200)
      failures.push(`after restart: health ${status}, request ${answer}`);
  } finally {
    await second.stop();
  }
  return {
    name: 'faults: kill -9, then restart',
    figures: { 'restart to healthy (ms)': readyMs.toFixed(0), port },
    failures,
  };
}

/** A missing or corrupt model file: a clear message and a non-zero exit, never garbage. */
export async function badModelScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const corrupt = join(tmpdir(), `corrupt-${process.pid}.gguf`);
  await writeFile(corrupt, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(4096, 7)]));
  const figures: Record<string, string> = {};
  for (const [label, path, expected] of [
    ['missing file', '/nonexistent/model.gguf', /no file exists there/],
    ['corrupt file', corrupt, /not a readable GGUF model|could not load/],
  ] as const) {
    const service = await spawnService({ cwd: LLMCHAT_ROOT, env: { LLMCHAT_MODEL: path } });
    const exit = await service.exited;
    const message = service.stderr().trim().split('\n').at(-1) ?? '';
    figures[label] = `exit ${exit.code}: ${message.slice(0, 90)}`;
    if (exit.code === 0) failures.push(`${label}: exit 0`);
    if (!expected.test(service.stderr())) failures.push(`${label}: unclear message "${message}"`);
  }
  return { name: 'faults: missing or corrupt model', figures, failures };
}
