import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type PtyProcess, spawnInPty } from './__fixtures__/pty.js';
import { spawnHello } from './__fixtures__/spawn-hello.js';

const HELLO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const HELLO = `exec '${process.execPath}' --import ./dist/telemetry.js ./dist/main.js`;
const ENV = { PATH: process.env.PATH ?? '', PORT: '0', OTEL_SDK_DISABLED: 'true' };

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function onTerminal(env: Record<string, string> = {}): PtyProcess {
  const pty = spawnInPty(HELLO, { cwd: HELLO_ROOT, env: { ...ENV, ...env } });
  cleanups.push(pty.kill);
  return pty;
}

/** hello with stdout on a pipe (or the file `stdout`), read as text rather than as JSON. */
function piped(env: Record<string, string>, stdout: 'pipe' | number = 'pipe'): ChildProcess {
  const child = spawn(process.execPath, ['--import', './dist/telemetry.js', './dist/main.js'], {
    cwd: HELLO_ROOT,
    env: { ...ENV, ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

/** Everything `child` writes to stdout, and a wait for a pattern in it (rejects at exit). */
function stdoutOf(child: ChildProcess): { text(): string; until(pattern: RegExp): Promise<void> } {
  let text = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  });
  return {
    text: () => text,
    until: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(text)) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        child.once('exit', () => reject(new Error(`exited before ${pattern}:\n${text}`)));
        check();
      }),
  };
}

/** The URL a pretty "serving" line names; answering /health proves serve() has set its signal handlers. */
async function servingUrl(output: string): Promise<string> {
  const url = /INFO: serving \{"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1] ?? '';
  expect((await fetch(`${url}/health`)).status).toBe(200);
  return url;
}

describe('log lines on a terminal (LOG_FORMAT=auto)', () => {
  it('are readable, written by the service itself, down to its last line after Ctrl-C', async () => {
    const pty = onTerminal();
    await servingUrl(await pty.waitFor(/INFO: serving \{"url":"http:\/\/127\.0\.0\.1:\d+"/));
    pty.interrupt();
    expect(await pty.exited).toBe(0);
    const output = pty.output();
    expect(output).toMatch(/\[[\d:.]+\] INFO: shutting down: draining in-flight requests/);
    expect(output).toMatch(/INFO: stopped\n$/);
    expect(output).not.toContain('"level"');
  });

  it('stay JSON with LOG_FORMAT=json', async () => {
    const pty = onTerminal({ LOG_FORMAT: 'json' });
    const serving = await pty.waitFor(/"url":"(http:[^"]+)","node":"[^"]+","msg":"serving"/);
    const url = /"url":"(http:[^"]+)","node":"[^"]+","msg":"serving"/.exec(serving)?.[1];
    expect((await fetch(`${url}/health`)).status).toBe(200);
    pty.interrupt();
    expect(await pty.exited).toBe(0);
    expect(pty.output()).toMatch(/^\{"level":30,.*"msg":"stopped"\}\n$/m);
    expect(pty.output()).not.toContain('INFO:');
  });
});

describe('log lines through a pipe', () => {
  it('are JSON by default (journald, files, log shippers)', async () => {
    const service = await spawnHello();
    cleanups.push(() => void service.stop());
    const serving = await service.waitForLog((line) => line.msg === 'serving');
    expect(serving).toMatchObject({ level: 30, service: 'hello', url: service.url });
  });

  it('are readable with LOG_FORMAT=pretty, none lost at exit', async () => {
    const child = piped({ LOG_FORMAT: 'pretty' });
    const exited = once(child, 'exit');
    const stdout = stdoutOf(child);
    await stdout.until(/INFO: serving .*\n/);
    await servingUrl(stdout.text());
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(stdout.text()).not.toContain('"level"');
    expect(stdout.text()).toMatch(/INFO: stopped\n$/);
  });
});

describe('log lines to the journal', () => {
  it('are JSON with a syslog priority whatever LOG_FORMAT says', async () => {
    // systemd names the stream it connected in JOURNAL_STREAM (device:inode); a file stands in.
    const path = join(await mkdtemp(join(tmpdir(), 'hello-journal-')), 'stdout');
    const file = await open(path, 'w');
    const { dev, ino } = await file.stat();
    const child = piped({ LOG_FORMAT: 'pretty', JOURNAL_STREAM: `${dev}:${ino}` }, file.fd);
    const exited = once(child, 'exit');
    // Bounded: the service logs "serving" within a second or two; 300 × 50 ms is 15 s.
    for (let attempt = 0; attempt < 300; attempt++) {
      if ((await readFile(path, 'utf8')).includes('"msg":"serving"')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    await file.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.some((line) => line.includes('"msg":"serving"'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^<6>\{"level":30,.*"msg":"stopped"\}$/);
    for (const line of lines) expect(line).toMatch(/^<\d>\{"level":\d+,/);
  });
});
