import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { requireTool } from '@hrserve/test-support/tools';

export interface PtyProcess {
  /** Everything written to the terminal so far, colours removed, CRLF as LF. */
  output(): string;
  /** Resolves with the output once `pattern` is in it; rejects after `timeoutMs` or at exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Ctrl-C typed at the terminal: the line discipline sends SIGINT to the foreground group. */
  interrupt(): void;
  /** The command's exit status (script -e hands it on); null when killed by a signal. */
  exited: Promise<number | null>;
  kill(): void;
}

/**
 * Runs a shell command on a pseudo-terminal of its own (util-linux `script`), as a person
 * at a terminal would: its stdout is a TTY, and Ctrl-C reaches every process of its
 * foreground group, not just the first. Our stdin is forwarded to the terminal.
 */
export function spawnInPty(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): PtyProcess {
  requireTool('script', 'bsdutils');
  const child = spawn(
    'script',
    ['--quiet', '--flush', '--return', '--command', command, '/dev/null'],
    {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  // Raw, cleaned when read: an escape sequence may be split between two chunks.
  let raw = '';
  const text = () => stripVTControlCharacters(raw).replace(/\r\n/g, '\n');
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    raw += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(text())) return;
        done();
        resolve(text());
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} on the terminal in ${timeoutMs} ms; it shows:\n${text()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      void exited.then(() => {
        if (!listeners.has(check)) return;
        done();
        if (pattern.test(text())) resolve(text());
        else reject(new Error(`exited before ${pattern}; the terminal shows:\n${text()}`));
      });
      check();
    });

  return {
    output: text,
    waitFor,
    interrupt: () => child.stdin.write('\x03'),
    exited,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
