import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HELLO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnedService {
  url: string;
  child: ChildProcess;
  /** Every JSON log line so far, parsed. */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/**
 * Starts the built hello service the way its unit does (`node --import
 * ./dist/telemetry.js dist/main.js`), on a free port, and resolves once it
 * logs that it listens.
 */
export async function spawnHello(env: Record<string, string> = {}): Promise<SpawnedService> {
  const child = spawn(process.execPath, ['--import', './dist/telemetry.js', './dist/main.js'], {
    cwd: HELLO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          const match = /Server listening at (http:\/\/[\d.]+:\d+)/.exec(String(entry.msg));
          if (match?.[1]) resolve(match[1]);
        } catch {
          // not a log line
        }
      }
    });
    void exited.then(({ code }) =>
      reject(new Error(`hello exited (${code}) before listening: ${stderr}`)),
    );
  });
  return {
    url,
    child,
    logs,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
