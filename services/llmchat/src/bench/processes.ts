import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support/spawn';

/** Peak resident memory of a process (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Number(match[1]) / 1024 : Number.NaN;
}

/** A free loopback port (llama-server needs one given). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export async function waitHealthy(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startLlamaServer(
  binary: string,
  options: {
    model: string;
    threads: number;
    batchThreads: number;
    parallel: number;
    contextPerSequence: number;
  },
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    binary,
    [
      '-m',
      options.model,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '-t',
      String(options.threads),
      '-tb',
      String(options.batchThreads),
      '-np',
      String(options.parallel),
      '-c',
      String(options.contextPerSequence * options.parallel),
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url);
  return { url, child };
}

/** The shared models folder beside the checkout (../shared/models), where a bench's default GGUF is. */
export function sharedModel(file: string): string {
  return fileURLToPath(new URL(`../../../../shared/models/${file}`, import.meta.url));
}

/**
 * llmchat from this package's build, as its unit runs it, on `model` with `env`; resolves
 * once the model is loaded, with the id it serves it under.
 */
export async function startBenchLlmchat(
  model: string,
  env: Record<string, string>,
): Promise<{ server: SpawnedService; model: string }> {
  const server = await spawnService({
    cwd: fileURLToPath(new URL('../', import.meta.url)),
    env: { LLMCHAT_MODEL: model, ...env },
    startTimeoutMs: 120_000,
  });
  try {
    await server.waitForLog((line) => line.msg === 'model loaded', 120_000);
    const listed = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    return { server, model: listed.data[0]?.id ?? '' };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
