import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { prettyLogLine } from 'hrserve';

/**
 * Reads log lines (a service's JSON lines, as `journalctl -o cat` gives them) from `input`
 * and writes each one readable, with the formatter a service uses on a terminal. Lines that
 * are not JSON (a crash on stderr, journald's own notes) pass through unchanged.
 */
export async function prettifyLines(
  input: Readable,
  write: (text: string) => void,
  format: (line: string) => string = prettyLogLine(),
): Promise<void> {
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.length > 0) write(format(line));
  }
}
