import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMemoryLimits } from './memory-limit.js';

/** A fake / with the files the kernel would show, paths relative to it. */
async function fakeRoot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cgroup-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const UNIT = 'sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/llmchat.service';

describe('readMemoryLimits', () => {
  it("reads a user unit's MemoryHigh= and MemoryMax= (cgroup v2)", async () => {
    const root = await fakeRoot({
      'proc/self/cgroup':
        '0::/user.slice/user-1000.slice/user@1000.service/app.slice/llmchat.service\n',
      [`${UNIT}/memory.high`]: `${6 * 2 ** 30}\n`,
      [`${UNIT}/memory.max`]: `${8 * 2 ** 30}\n`,
      'sys/fs/cgroup/user.slice/memory.max': 'max\n',
    });
    expect(readMemoryLimits(root)).toEqual({ highBytes: 6 * 2 ** 30, maxBytes: 8 * 2 ** 30 });
  });

  it('takes the smaller limit of an ancestor slice', async () => {
    const root = await fakeRoot({
      'proc/self/cgroup':
        '0::/user.slice/user-1000.slice/user@1000.service/app.slice/llmchat.service\n',
      [`${UNIT}/memory.high`]: 'max\n',
      [`${UNIT}/memory.max`]: `${8 * 2 ** 30}\n`,
      'sys/fs/cgroup/user.slice/memory.max': `${4 * 2 ** 30}\n`,
    });
    expect(readMemoryLimits(root)).toEqual({ highBytes: undefined, maxBytes: 4 * 2 ** 30 });
  });

  it('reads cgroup v1, where "no limit" is a huge number', async () => {
    const limited = await fakeRoot({
      'proc/self/cgroup': '4:memory:/docker/abc\n0::/\n',
      'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': `${2 ** 31}\n`,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    });
    expect(readMemoryLimits(limited)).toEqual({ maxBytes: 2 ** 31 });
    const unlimited = await fakeRoot({
      'proc/self/cgroup': '4:memory:/\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    });
    expect(readMemoryLimits(unlimited)).toEqual({});
  });

  it('is empty where nothing can be read', async () => {
    expect(readMemoryLimits(await fakeRoot({}))).toEqual({});
  });
});
