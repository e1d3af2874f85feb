import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type LogStream, logDestination, resolveLogFormat } from './log-destination.js';

const LINE = '{"level":30,"time":1700000000000,"pid":7,"service":"hello","msg":"serving"}\n';
// pino-pretty colours by its own guess at the test's stdout; these tests read the text.
const plain = stripVTControlCharacters;

/** What a destination writes for one line, captured instead of going to stdout. */
function destinationFor(
  format: 'auto' | 'pretty' | 'json',
  stdoutIsTTY: boolean,
  journal?: LogStream,
): { stream: LogStream; written: string[] } {
  const written: string[] = [];
  const stream = logDestination(format, {
    stdoutIsTTY,
    journal: () => journal,
    write: (text) => written.push(plain(text)),
  });
  return { stream, written };
}

describe('LOG_FORMAT', () => {
  it('auto is pretty on a terminal and JSON on anything else', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
  });

  it('pretty and json are forced whatever stdout is', () => {
    for (const tty of [true, false]) {
      expect(resolveLogFormat('pretty', tty)).toBe('pretty');
      expect(resolveLogFormat('json', tty)).toBe('json');
    }
  });
});

describe('the log destination', () => {
  it('on a terminal writes readable lines itself, synchronously, one per log line', () => {
    const { stream, written } = destinationFor('auto', true);
    stream.write(LINE);
    // Written before write() returns: nothing is left in a buffer when the process exits.
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: serving\n$/);
  });

  it('through a pipe writes pino JSON lines as they are, synchronously', () => {
    const { stream, written } = destinationFor('auto', false);
    stream.write(LINE);
    // Synchronous like the pretty lines: the last line at exit cannot overtake an earlier one.
    expect(written).toEqual([LINE]);
  });

  it('LOG_FORMAT=pretty prettifies a pipe; LOG_FORMAT=json keeps JSON on a terminal', () => {
    const { stream, written } = destinationFor('pretty', false);
    stream.write(LINE);
    expect(written[0]).toContain('INFO: serving');
    const json = destinationFor('json', true);
    json.stream.write(LINE);
    expect(json.written).toEqual([LINE]);
  });

  it('is the journal whenever stdout is the journal, even with LOG_FORMAT=pretty on a terminal', () => {
    const journal: LogStream = { write: () => {} };
    for (const format of ['auto', 'pretty', 'json'] as const) {
      expect(destinationFor(format, true, journal).stream).toBe(journal);
    }
  });
});
