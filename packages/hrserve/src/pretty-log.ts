import { prettyFactory } from 'pino-pretty';

export interface PrettyLogOptions {
  /** ANSI colours; defaults to pino-pretty's guess (stdout a terminal, NO_COLOR, FORCE_COLOR). */
  colorize?: boolean;
}

/**
 * Turns one pino JSON line into a readable one, `[12:00:01.234] INFO: serving {"url":…}`:
 * time, level, message and the other fields on the same line (an error's stack below
 * it); anything that is not a JSON object comes back as it was, so a
 * stack trace or a line from another program passes through. Shared by a service writing
 * to a terminal and by the `just logs` viewer, so both read the same.
 */
export function prettyLogLine(options: PrettyLogOptions = {}): (line: string) => string {
  const format = prettyFactory({
    translateTime: 'SYS:HH:MM:ss.l',
    // One service per terminal or unit: its name, version and pid on every line are noise.
    ignore: 'pid,hostname,service,version',
    // A request is two entries; spread over a dozen lines each they bury everything else.
    singleLine: true,
    ...(options.colorize === undefined ? {} : { colorize: options.colorize }),
  });
  // pino-pretty returns nothing for a line it filters out; we filter nothing, but stay total.
  return (line) => format(line.replace(/\r?\n$/, '')) ?? '';
}

/**
 * A pino destination that prettifies each line in this process and hands it to `write`
 * at once. pino-pretty's own stream (or transport worker) goes through a stream pipeline
 * or a thread, so the lines logged just before `process.exit` (the drain, "stopped")
 * could be lost; this never buffers.
 */
export function prettyLogStream(
  write: (text: string) => void,
  options: PrettyLogOptions = {},
): { write(line: string): void } {
  const pretty = prettyLogLine(options);
  return { write: (line) => write(pretty(line)) };
}
