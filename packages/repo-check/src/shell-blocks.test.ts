import { describe, expect, it } from 'vitest';
import { shellBlocks, splitComment } from './shell-blocks.js';

const markdown = [
  '# Title',
  '',
  '```sh',
  './pnpm install && ./pnpm start   # start it (foreground)',
  '',
  '# a comment line',
  "curl localhost:2020/x -H 'a: b' \\",
  '  -d \'{"c":"#1"}\'',
  '```',
  '',
  '```ts',
  'const a = 1;',
  '```sh',
  '```',
  '',
  '```sh untested: needs systemd',
  'systemctl --user start x',
  '```',
].join('\n');

describe('shellBlocks', () => {
  it('reads each sh block, its commands with continuations joined, and skips other blocks', () => {
    const blocks = shellBlocks(markdown);
    expect(blocks).toEqual([
      {
        line: 3,
        commands: [
          {
            text: './pnpm install && ./pnpm start   # start it (foreground)',
            code: './pnpm install && ./pnpm start',
            comment: 'start it (foreground)',
          },
          {
            text: 'curl localhost:2020/x -H \'a: b\' \\\n  -d \'{"c":"#1"}\'',
            code: 'curl localhost:2020/x -H \'a: b\' \\\n  -d \'{"c":"#1"}\'',
            comment: '',
          },
        ],
      },
      {
        line: 16,
        untested: 'needs systemd',
        commands: [
          { text: 'systemctl --user start x', code: 'systemctl --user start x', comment: '' },
        ],
      },
    ]);
  });

  it('refuses a block that is never closed, naming its line', () => {
    expect(() => shellBlocks('text\n```sh\nls\n')).toThrow('README.md:2');
  });
});

describe('splitComment', () => {
  it('splits at a # after whitespace outside quotes, as bash does', () => {
    expect(splitComment('echo a # b')).toEqual({ code: 'echo a', comment: 'b' });
    expect(splitComment('echo \'# not\' "# not" a#b')).toEqual({
      code: 'echo \'# not\' "# not" a#b',
      comment: '',
    });
    expect(splitComment('echo \\# x')).toEqual({ code: 'echo \\# x', comment: '' });
  });
});
