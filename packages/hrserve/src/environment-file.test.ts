import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEnvironmentFile, parseEnvironmentFile } from './environment-file.js';

const parsed = (text: string) => Object.fromEntries(parseEnvironmentFile(text).variables);

describe('parseEnvironmentFile (as systemd reads EnvironmentFile=)', () => {
  it('reads KEY=value lines, skipping comments, blank lines and lines without =', () => {
    const text = [
      '# a comment',
      '; another',
      '',
      'LLMCHAT_MODEL=/srv/models/a.gguf',
      '  PORT = 2020  ',
      'not an assignment',
      'EMPTY=',
      'LAST=no newline at the end',
    ].join('\n');
    expect(parsed(text)).toEqual({
      LLMCHAT_MODEL: '/srv/models/a.gguf',
      PORT: '2020',
      EMPTY: '',
      LAST: 'no newline at the end',
    });
  });

  it('keeps a # inside an unquoted value and the whitespace between words', () => {
    expect(parsed('API_KEYS=abc#1, def # not a comment\n')).toEqual({
      API_KEYS: 'abc#1, def # not a comment',
    });
  });

  it('reads single quotes verbatim and double quotes with shell escapes, both across lines', () => {
    const text = [
      `SINGLE='a "b" \\n $HOME'`,
      'DOUBLE="say \\"hi\\" \\\\ \\$HOME \\n"',
      `LINES='one`,
      `two'`,
      'JOINED="a\\',
      'b"',
      'MIXED=  "a b" c',
    ].join('\n');
    expect(parsed(text)).toEqual({
      SINGLE: 'a "b" \\n $HOME',
      DOUBLE: 'say "hi" \\ $HOME \\n',
      LINES: 'one\ntwo',
      JOINED: 'ab',
      MIXED: 'a bc',
    });
  });

  it('continues an unquoted value after a backslash at the end of a line and unescapes the rest', () => {
    expect(parsed('LONG=first \\\nsecond\nESCAPED=a\\ b\\\\c\n')).toEqual({
      LONG: 'first second',
      ESCAPED: 'a b\\c',
    });
  });

  it('drops names systemd drops, takes the last of a repeated name, reads CRLF files', () => {
    const result = parseEnvironmentFile(
      'export FOO=1\n1BAD=2\nA=first\r\nA=second\r\nB-C=3\nGOOD_1=ok\n',
    );
    expect(Object.fromEntries(result.variables)).toEqual({ A: 'second', GOOD_1: 'ok' });
    expect(result.invalidNames).toEqual(['export FOO', '1BAD', 'B-C']);
  });

  it('ends a comment at its line even when it ends with a backslash (systemd 254+)', () => {
    expect(parsed('# note \\\nA=1\n')).toEqual({ A: '1' });
  });
});

describe('applyEnvironmentFile', () => {
  it('sets what the environment lacks; a variable already set (the command line) wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hrserve-env-file-'));
    const path = join(dir, 'hello.env');
    await writeFile(path, 'HELLO_GREETING=Hi\nLOG_LEVEL=debug\nexport X=1\n');
    const env: Record<string, string | undefined> = { LOG_LEVEL: 'warn', PATH: '/bin' };
    expect(applyEnvironmentFile(path, env)).toEqual({
      path,
      applied: ['HELLO_GREETING'],
      overridden: ['LOG_LEVEL'],
      invalidNames: ['export X'],
    });
    expect(env).toEqual({ HELLO_GREETING: 'Hi', LOG_LEVEL: 'warn', PATH: '/bin' });
  });

  it('is undefined, changing nothing, when there is no file', async () => {
    const env = { A: '1' };
    expect(applyEnvironmentFile(join(tmpdir(), 'hrserve-no-such-dir', 'x.env'), env)).toBe(
      undefined,
    );
    expect(env).toEqual({ A: '1' });
  });
});
