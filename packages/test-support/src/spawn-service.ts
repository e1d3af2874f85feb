import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SpawnOptions {
  /** The service's package directory (holds dist/telemetry.js and dist/main.js). */
  cwd: string;
  /**
   * Environment on top of PATH; PORT defaults to 0 (a free port), telemetry to off, and
   * XDG_DATA_HOME to a new temporary directory (the service's state is the test's own).
   */
  env?: Record<string, string>;
  /** Milliseconds to wait for "Server listening" (default 30000). */
  startTimeoutMs?: number;
}

export interface SpawnedService {
  url: string;
  child: ChildProcess;
  /** Every JSON log line so far, parsed. */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a log line satisfies `predicate`. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts a built service the way its unit does (`node --max-semi-space-size=16
 * --import ./dist/telemetry.js ./dist/main.js` with MALLOC_MMAP_THRESHOLD_,
 * bin/src/render-unit.ts), on a free port, and resolves once it logs that it listens.
 */
export async function spawnService(options: SpawnOptions): Promise<SpawnedService> {
  const args = ['--max-semi-space-size=16', '--import', './dist/telemetry.js', './dist/main.js'];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      OTEL_SDK_DISABLED: 'true',
      MALLOC_MMAP_THRESHOLD_: String(2 ** 20),
      XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'service-data-')),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const listeners = new Set<(line: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
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
        for (const listener of listeners) listener(entry);
      } catch {
        // not a log line
      }
    }
  });

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = logs.find(predicate);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`no matching log line in ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const listener = (line: Record<string, unknown>) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(line);
      };
      listeners.add(listener);
      void exited.then(({ code }) => {
        clearTimeout(timer);
        listeners.delete(listener);
        reject(new Error(`service exited (${code}): ${stderr}`));
      });
    });

  const listening = await waitForLog(
    (line) => /Server listening at http:\/\/[\d.]+:\d+/.test(String(line.msg)),
    options.startTimeoutMs,
  );
  const url = /(http:\/\/[\d.]+:\d+)/.exec(String(listening.msg))?.[1] ?? '';
  return {
    url,
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
