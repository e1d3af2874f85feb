import type { LogFormat } from './config.js';
import { journalStreamIfAny } from './journal.js';
import { prettyLogStream } from './pretty-log.js';

export type LogStream = { write(line: string): void };

/** What LOG_FORMAT means for this stdout: `auto` is readable on a terminal, JSON anywhere else. */
export function resolveLogFormat(setting: LogFormat, stdoutIsTTY: boolean): 'pretty' | 'json' {
  switch (setting) {
    case 'auto':
      return stdoutIsTTY ? 'pretty' : 'json';
    case 'pretty':
    case 'json':
      return setting;
    default:
      return setting satisfies never;
  }
}

export interface LogDestinationOptions {
  /** stdout with journald priorities when it is the journal (journal.ts); injectable for tests. */
  journal?: () => LogStream | undefined;
  /** Whether stdout is a terminal (default: process.stdout.isTTY). */
  stdoutIsTTY?: boolean;
  /** Where pretty lines go (default: stdout, written synchronously on a terminal or a pipe on Linux). */
  write?: (text: string) => void;
}

/**
 * The stream pino writes to, for LOG_FORMAT. The journal comes first whatever the format:
 * journald wants one JSON line per entry, its priority in front, so `journalctl -p err`
 * and `just logs` work. Otherwise pretty lines are formatted here, in the service's own
 * process: no second process in a pipe that Ctrl-C could kill before the last lines.
 * JSON lines also go through process.stdout, which Node writes synchronously to a terminal,
 * a file or a pipe on Linux, rather than through pino's default asynchronous destination:
 * that one's flush at exit could write the last line ("stopped") before a line still in
 * the thread pool ("shutting down"), which CI saw once.
 */
export function logDestination(format: LogFormat, options: LogDestinationOptions = {}): LogStream {
  const journal = (options.journal ?? journalStreamIfAny)();
  if (journal) return journal;
  const stdoutIsTTY = options.stdoutIsTTY ?? process.stdout.isTTY === true;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  if (resolveLogFormat(format, stdoutIsTTY) === 'json') return { write };
  return prettyLogStream(write);
}
