import { describe, expect, it } from 'vitest';
import { journalLine, stdoutIsJournal } from './journal.js';

describe('log lines for journald', () => {
  it('prefix each line with the syslog priority of its pino level', () => {
    const line = (level: number) => `{"level":${level},"time":1,"msg":"x"}\n`;
    expect([10, 20, 30, 40, 50, 60].map((level) => journalLine(line(level)).slice(0, 3))).toEqual([
      '<7>',
      '<7>',
      '<6>',
      '<4>',
      '<3>',
      '<2>',
    ]);
    expect(journalLine(line(50))).toBe(`<3>${line(50)}`);
    expect(journalLine('not json\n')).toBe('not json\n');
  });

  it('only when stdout is the stream systemd named in JOURNAL_STREAM', () => {
    const stat = () => ({ dev: 25, ino: 1234 });
    expect(stdoutIsJournal({ JOURNAL_STREAM: '25:1234' }, stat)).toBe(true);
    // Piped elsewhere (| less, a test) under a unit: another inode.
    expect(stdoutIsJournal({ JOURNAL_STREAM: '25:99' }, stat)).toBe(false);
    expect(stdoutIsJournal({}, stat)).toBe(false);
    expect(
      stdoutIsJournal({ JOURNAL_STREAM: '25:1234' }, () => {
        throw new Error('EBADF');
      }),
    ).toBe(false);
  });
});
