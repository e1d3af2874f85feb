import { fstatSync } from 'node:fs';

/** syslog priorities of pino's levels: trace and debug 7, info 6, warn 4, error 3, fatal 2. */
function priorityOf(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/**
 * A log line as journald reads it from a service's stdout: `<priority>` then
 * the JSON line, so `journalctl -p err` finds errors (journald strips the
 * prefix; SyslogLevelPrefix is on by default).
 */
export function journalLine(line: string): string {
  const level = /"level":(\d+)/.exec(line)?.[1];
  return level === undefined ? line : `<${priorityOf(Number(level))}>${line}`;
}

/**
 * Whether stdout is the journal: systemd sets JOURNAL_STREAM to the device and
 * inode of the stream it connects there (`dev:ino`); a pipe to something else
 * (`| less`, a test) has another.
 */
export function stdoutIsJournal(
  env: NodeJS.ProcessEnv = process.env,
  stat: () => { dev: number | bigint; ino: number | bigint } = () => fstatSync(1),
): boolean {
  const expected = env.JOURNAL_STREAM;
  if (!expected) return false;
  try {
    const { dev, ino } = stat();
    return expected === `${dev}:${ino}`;
  } catch {
    return false;
  }
}

/** stdout with priority prefixes when it is the journal; undefined (pino's default) otherwise. */
export function journalStreamIfAny(): { write(line: string): void } | undefined {
  if (!stdoutIsJournal()) return undefined;
  // The journal is a socket: Node writes to it synchronously on Linux, so no line is lost at exit.
  return { write: (line) => process.stdout.write(journalLine(line)) };
}
