import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support/spawn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../', import.meta.url));
const HELLO = fileURLToPath(new URL('../../examples/hello/', import.meta.url));

interface TracesProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves once `predicate` holds over what it printed (checked as output arrives, up to `timeoutMs`). */
  waitFor(
    predicate: (stdout: string, stderr: string) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
}

/** `just traces` as the recipe runs it (tsx src/traces.ts), with `args`. */
function startTraces(args: string[]): TracesProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/traces.ts', ...args], {
    cwd: BIN,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(stdout, stderr)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`not printed in ${timeoutMs} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`),
          );
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          check();
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`just traces exited.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        });
        check();
      }),
  };
}

describe('just traces, with a real service exporting to it', () => {
  let traces: TracesProcess;
  let grpcEndpoint: string;
  let httpEndpoint: string;
  const services: SpawnedService[] = [];

  beforeAll(async () => {
    traces = startTraces(['--grpc-port', '0', '--http-port', '0', '--quiet-ms', '300']);
    await traces.waitFor((_, stderr) => stderr.includes('Listening for OTLP'));
    const [, grpc, http] =
      /on (http:\/\/\S+) \(gRPC\) and (http:\/\/\S+) \(http/.exec(traces.stderr()) ?? [];
    grpcEndpoint = grpc ?? '';
    httpEndpoint = http ?? '';
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    traces?.child.kill('SIGTERM');
    await traces?.exited;
  });

  for (const protocol of ['grpc', 'http/protobuf', 'http/json']) {
    it(`prints the request's server span as a tree, exported over ${protocol}`, async () => {
      const service = await spawnService({
        cwd: HELLO,
        env: {
          OTEL_SDK_DISABLED: 'false',
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? grpcEndpoint : httpEndpoint,
          OTEL_SERVICE_NAME: `hello-${protocol.replace('/', '-')}`,
        },
      });
      services.push(service);
      const jobId = `job-${protocol.replace('/', '-')}`;
      const response = await fetch(`${service.url}/v1/hello?name=trace&client_job_id=${jobId}`);
      expect(response.status).toBe(200);
      const traceId = response.headers.get('x-trace-id') as string;

      await traces.waitFor((stdout) => stdout.includes(`trace ${traceId}`));
      const printed = traces.stdout().slice(traces.stdout().indexOf(`trace ${traceId}`));
      const [header, root] = printed.split('\n');
      expect(header).toMatch(
        new RegExp(`^trace ${traceId}  \\d\\d:\\d\\d:\\d\\d\\.\\d{3}  [\\d.]+ ms  1 span  hello-`),
      );
      // The server span, named for its service, with its key attributes.
      expect(root).toMatch(
        new RegExp(
          `^hello-${protocol.replace('/', '-')}  GET /v1/hello  [\\d.]+ ms  http.route=/v1/hello http.response.status_code=200 request_id=\\S+ client_job_id=${jobId}$`,
        ),
      );
    });
  }

  it('says what it received when stopped', async () => {
    traces.child.kill('SIGINT');
    expect(await traces.exited).toBe(0);
    expect(traces.stderr()).toMatch(
      /Received \d+ trace exports? \(spans: [1-9]\d* over grpc, [1-9]\d* over http\/protobuf, [1-9]\d* over http\/json\)/,
    );
  });
});

describe('just traces, misused', () => {
  it('says in one line that a port is taken, and by what it may be', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const traces = startTraces(['--grpc-port', String(port), '--http-port', '0']);
      expect(await traces.exited).toBe(1);
      expect(traces.stderr()).toBe(
        `just traces: 127.0.0.1:${port} (OTLP/gRPC) is already in use, perhaps by a collector; see who holds it with \`ss -ltnp 'sport = :${port}'\`, or choose another port.\n`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);

  it('names a wrong value, then the usage, exit 2', async () => {
    const traces = startTraces(['--http-port', 'high']);
    expect(await traces.exited).toBe(2);
    expect(traces.stderr()).toMatch(
      /^just traces: --http-port \(HRSERVE_TRACES_HTTP_PORT\) must be a whole number from 0 to 65535, not "high"\.\nUsage: just traces/,
    );
  }, 60_000);
});
