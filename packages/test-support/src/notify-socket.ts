import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './require-tool.js';

/*
 * Node cannot bind an AF_UNIX datagram socket, so systemd's own
 * systemd-socket-activate binds it (as the manager's NOTIFY_SOCKET would be)
 * and hands it to this reader as fd 3 on the first datagram. read(2) returns
 * one datagram at a time and closes the file descriptors a message carries,
 * which is what releases systemd-notify's BARRIER=1 wait, as the manager does.
 */
const READER = `
const fs = require('node:fs');
const buffer = Buffer.alloc(65536);
for (;;) {
  let length;
  try { length = fs.readSync(3, buffer); } catch { break; }
  process.stdout.write(JSON.stringify(buffer.subarray(0, length).toString()) + '\\n');
}
`;

/** One sd_notify message as assignments, e.g. `{ READY: '1', STATUS: 'serving' }`. */
export type NotifyMessage = Record<string, string>;

function parse(datagram: string): NotifyMessage {
  const message: NotifyMessage = {};
  for (const line of datagram.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) message[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return message;
}

/**
 * A fake systemd manager's NOTIFY_SOCKET for tests: pass `path` as NOTIFY_SOCKET
 * to a service and read what it told systemd from `messages` (BARRIER=1 left out).
 */
export class FakeNotifySocket {
  readonly messages: NotifyMessage[] = [];

  private constructor(
    readonly path: string,
    private readonly directory: string,
    private readonly child: ChildProcess,
  ) {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const message = parse(JSON.parse(line) as string);
        if (!('BARRIER' in message)) this.messages.push(message);
      }
    });
  }

  static async start(): Promise<FakeNotifySocket> {
    requireTool('systemd-socket-activate', 'systemd');
    requireTool('systemd-notify', 'systemd');
    const directory = mkdtempSync(join(tmpdir(), 'notify-'));
    const path = join(directory, 'notify.sock');
    const child = spawn(
      'systemd-socket-activate',
      ['--datagram', '--listen', path, process.execPath, '-e', READER],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Listening once it says so on stderr ("Listening on … as 3.").
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(
        () => reject(new Error(`systemd-socket-activate did not listen: ${stderr}`)),
        10_000,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`systemd-socket-activate exited ${code}: ${stderr}`));
      });
    });
    return new FakeNotifySocket(path, directory, child);
  }

  /** Resolves with the first message (so far or to come) that satisfies `predicate`. */
  async waitFor(predicate: (message: NotifyMessage) => boolean, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no matching notify message in ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  stop(): void {
    this.child.kill();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
