import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { prettyLogLine } from 'hrserve';
import { describe, expect, it } from 'vitest';
import { prettifyLines } from './pretty-lines.js';

const BIN = fileURLToPath(new URL('../', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
// What `journalctl --user -u llmchat -o cat` prints: the service's JSON lines, and what it
// wrote to stderr (a configuration error) as plain lines.
const FIXTURE = new URL('./__fixtures__/journal-cat.txt', import.meta.url);
const EXPECTED = new URL('./__fixtures__/journal-cat.pretty.txt', import.meta.url);

describe('prettifyLines', () => {
  it('makes each JSON line readable and passes other lines through, skipping blank ones', async () => {
    const written: string[] = [];
    await prettifyLines(
      Readable.from([
        'not json\n{"level":30,"time":0,"msg":"serving"}\n',
        '\n{"level":40,',
        '"time":0,"msg":"slow"}\n',
      ]),
      (text) => written.push(text),
      prettyLogLine({ colorize: false }),
    );
    expect(written).toHaveLength(3);
    expect(written[0]).toBe('not json\n');
    expect(written[1]).toMatch(/^\[[\d:.]+\] INFO: serving\n$/);
    // A line split across reads is still one entry.
    expect(written[2]).toMatch(/^\[[\d:.]+\] WARN: slow\n$/);
  });
});

describe('the `just logs` viewer (pretty-logs)', () => {
  it('turns the journal lines of a fixture into the expected readable lines', async () => {
    const expected = await readFile(EXPECTED, 'utf8');
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        `${BIN}node_modules/.bin/tsx`,
        ['src/pretty-logs.ts'],
        // UTC for fixed times; a pipe, so no colours either way.
        { cwd: BIN, env: { PATH: process.env.PATH ?? '', TZ: 'UTC', NO_COLOR: '1' } },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
      void readFile(FIXTURE).then((text) => child.stdin?.end(text));
    });
    expect(output).toBe(expected);
  });
});

describe('just logs <service>', () => {
  it("shows the unit's journal (-o cat, the last 100, following) through the viewer", async () => {
    // No systemd here: a systemctl that answers as a user manager and a journalctl that
    // prints the fixture when asked for what the recipe should ask.
    const fakes = await mkdtemp(join(tmpdir(), 'fake-journal-'));
    await writeFile(join(fakes, 'systemctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await writeFile(
      join(fakes, 'journalctl'),
      `#!/bin/sh\n[ "$*" = "--user -u llmchat -o cat -n 100 -f" ] || { echo "journalctl $*" >&2; exit 2; }\ncat '${fileURLToPath(FIXTURE)}'\n`,
      { mode: 0o755 },
    );
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        join(REPO, 'node_modules/.bin/just'),
        ['logs', 'llmchat'],
        {
          cwd: REPO,
          env: { ...process.env, PATH: `${fakes}:${process.env.PATH}`, TZ: 'UTC', NO_COLOR: '1' },
        },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(output).toBe(await readFile(EXPECTED, 'utf8'));
  });
});
