import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createRelease,
  listReleases,
  pruneReleases,
  ReleaseError,
  releaseId,
  rollback,
  switchTo,
  withReleaseLock,
} from './releases.js';
import { linkUnits, unlinkUnits } from './unit-links.js';

/** A git repository with one service unit, and a commit per `version`. */
async function repoWithCommits(): Promise<{ repo: string; commit: (version: string) => void }> {
  const repo = await mkdtemp(join(tmpdir(), 'release-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
  git('init', '-q');
  await mkdir(join(repo, 'systemd'));
  return {
    repo,
    commit: (version) => {
      execFileSync(
        'sh',
        ['-c', `echo "${version}" > VERSION && echo "[Service]" > systemd/demo.service`],
        {
          cwd: repo,
        },
      );
      git('add', '.');
      git('commit', '-qm', version);
    },
  };
}

/** What a build leaves, without pnpm: the "built" marker the tests look for. */
const fakeBuild = async (directory: string) => {
  await writeFile(join(directory, 'BUILT'), 'yes');
};

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 18, minute, 0));

describe('releases', () => {
  it('are named by time and commit', () => {
    expect(releaseId(at(5), 'abcdef0123456789')).toBe('20261130-180500-abcdef0');
  });

  it('build the committed tree beside the running one, switch in one step, and roll back', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    commit('v1');
    const first = await createRelease({ root }, repo, fakeBuild, at(1));
    await switchTo({ root }, first.id);
    commit('v2');
    await writeFile(join(repo, 'VERSION'), 'uncommitted');
    const second = await createRelease({ root }, repo, fakeBuild, at(2));
    expect(second.uncommitted).toBe(true);
    // The release is the commit, not the working tree.
    expect(await readFile(join(second.path, 'VERSION'), 'utf8')).toBe('v2\n');
    expect(await readFile(join(second.path, 'BUILT'), 'utf8')).toBe('yes');
    // Built but not running until switched.
    expect(await readlink(join(root, 'current'))).toBe(first.path);

    await switchTo({ root }, second.id);
    expect(await readlink(join(root, 'current'))).toBe(second.path);
    expect(await readlink(join(root, 'previous'))).toBe(first.path);
    expect((await listReleases({ root })).map((r) => [r.id, r.current, r.previous])).toEqual([
      [second.id, true, false],
      [first.id, false, true],
    ]);

    await rollback({ root });
    expect(await readlink(join(root, 'current'))).toBe(first.path);
    expect(await readlink(join(root, 'previous'))).toBe(second.path);
    // Rolling back again returns to where it was.
    await rollback({ root });
    expect(await readlink(join(root, 'current'))).toBe(second.path);
  });

  it('leave nothing behind, and the current release running, when a build fails', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    commit('v1');
    const first = await createRelease({ root }, repo, fakeBuild, at(1));
    await switchTo({ root }, first.id);
    commit('v2');
    const failing = async () => {
      throw new ReleaseError('`./pnpm install` failed');
    };
    await expect(createRelease({ root }, repo, failing, at(2))).rejects.toThrow('pnpm install');
    expect((await listReleases({ root })).map((release) => release.id)).toEqual([first.id]);
    expect(await readlink(join(root, 'current'))).toBe(first.path);
  });

  it('run one upgrade or rollback at a time, taking over a lock whose owner is gone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    await mkdir(join(root, 'releases/.lock'), { recursive: true });
    await writeFile(join(root, 'releases/.lock/pid'), `${process.pid}\n`);
    await expect(withReleaseLock({ root }, async () => 'ran')).rejects.toThrow(
      `another upgrade or rollback is running (pid ${process.pid}); wait for it`,
    );
    // A pid no process has (above the kernel's maximum): the lock was left by a crash.
    await writeFile(join(root, 'releases/.lock/pid'), '99999999\n');
    expect(await withReleaseLock({ root }, async () => 'ran')).toBe('ran');
    expect(existsSync(join(root, 'releases/.lock'))).toBe(false);
  });

  it('remove what an interrupted build left before the next one', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    await mkdir(join(root, 'releases/.20261130-170000-abcdef0.partial/node_modules'), {
      recursive: true,
    });
    commit('v1');
    await createRelease({ root }, repo, fakeBuild, at(1));
    expect(existsSync(join(root, 'releases/.20261130-170000-abcdef0.partial'))).toBe(false);
  });

  it('say there is nothing to roll back to before a second release', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    await expect(rollback({ root })).rejects.toThrow(
      /no previous release \(just upgrade makes one\)/,
    );
  });

  it('are pruned to the newest few, never the current or previous one', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    const ids: string[] = [];
    for (const minute of [1, 2, 3, 4, 5]) {
      commit(`v${minute}`);
      ids.push((await createRelease({ root }, repo, fakeBuild, at(minute))).id);
    }
    await switchTo({ root }, ids[1] as string);
    await switchTo({ root }, ids[0] as string);
    // Newest two kept, plus the current (oldest) and previous (second oldest).
    expect(await pruneReleases({ root }, 2)).toEqual([ids[2]]);
    expect(existsSync(join(root, 'releases', ids[0] as string))).toBe(true);
  });
});

describe('unit links', () => {
  it('point through current, follow a switch, and drop units the release no longer has', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    const unitDir = join(root, 'units');
    commit('v1');
    await writeFile(join(repo, 'systemd/old.service'), '[Service]\n');
    execFileSync('sh', ['-c', 'git add . && git -c user.name=t -c user.email=t@t commit -qm old'], {
      cwd: repo,
    });
    const first = await createRelease({ root }, repo, fakeBuild, at(1));
    await switchTo({ root }, first.id);
    expect((await linkUnits({ root, unitDir, gpuDevices: [] })).linked).toEqual([
      'demo.service',
      'old.service',
    ]);
    expect(await readlink(join(unitDir, 'demo.service'))).toBe(
      join(root, 'current/systemd/demo.service'),
    );

    execFileSync(
      'sh',
      ['-c', 'git rm -q systemd/old.service && git -c user.name=t -c user.email=t@t commit -qm rm'],
      {
        cwd: repo,
      },
    );
    await switchTo({ root }, (await createRelease({ root }, repo, fakeBuild, at(2))).id);
    const report = await linkUnits({ root, unitDir, gpuDevices: [] });
    expect(report.removed).toEqual(['old.service']);
    expect(existsSync(join(unitDir, 'old.service'))).toBe(false);
  });

  it('create the directories each unit may write, owner only', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    const home = join(root, 'home');
    commit('v1');
    await writeFile(
      join(repo, 'systemd/stateful.service'),
      '[Service]\nReadWritePaths=-%h/.cache/hrserve/models\nReadWritePaths=-%h/.local/share/hrserve/stateful\n',
    );
    execFileSync('sh', ['-c', 'git add . && git -c user.name=t -c user.email=t@t commit -qm s'], {
      cwd: repo,
    });
    await switchTo({ root }, (await createRelease({ root }, repo, fakeBuild, at(1))).id);
    await linkUnits({ root, unitDir: join(root, 'units'), gpuDevices: [], home });
    for (const path of ['.cache/hrserve/models', '.local/share/hrserve/stateful']) {
      expect((await stat(join(home, path))).mode & 0o777).toBe(0o700);
    }
  });

  it('unlink the GPU drop-in even when systemctl disable took the unit link first', async () => {
    const { repo, commit } = await repoWithCommits();
    const root = await mkdtemp(join(tmpdir(), 'hrserve-root-'));
    const unitDir = join(root, 'units');
    commit('v1');
    await writeFile(join(repo, 'systemd/demo.gpu.conf'), '[Service]\nPrivateDevices=no\n');
    execFileSync('sh', ['-c', 'git add . && git -c user.name=t -c user.email=t@t commit -qm gpu'], {
      cwd: repo,
    });
    await switchTo({ root }, (await createRelease({ root }, repo, fakeBuild, at(1))).id);
    const report = await linkUnits({ root, unitDir, gpuDevices: [repo] });
    expect(report.gpu).toBe(repo);
    expect(await readlink(join(unitDir, 'demo.service.d/gpu.conf'))).toBe(
      join(root, 'current/systemd/demo.gpu.conf'),
    );
    await rm(join(unitDir, 'demo.service'));
    await unlinkUnits({ root, unitDir });
    expect(existsSync(join(unitDir, 'demo.service.d'))).toBe(false);
  });
});
