import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { basename, join } from 'node:path';

/**
 * Versioned installs. Units run `~/.local/share/hrserve/current`, a symlink:
 * to a checkout while developing (`just install-units`), or to a release
 * built by `just upgrade` under `releases/<date>-<commit>`. An upgrade builds
 * the new release beside the running one, then switches the symlink in one
 * rename, so a unit never runs a half-built tree; `previous` remembers the
 * release before, for `just rollback`.
 */
export interface ReleaseRoot {
  /** `~/.local/share/hrserve` */
  root: string;
}

export interface Release {
  id: string;
  path: string;
  commit: string;
  builtAt: string;
  current: boolean;
  previous: boolean;
}

/** What the release was built from, written into it (`RELEASE`). */
interface ReleaseInfo {
  commit: string;
  builtAt: string;
}

/** Installs and builds a release's tree (in `just upgrade`: pnpm install, turbo build). */
export type BuildRelease = (directory: string) => Promise<void>;

/** A failure the operator can act on, printed as one line. */
export class ReleaseError extends Error {
  override readonly name = 'ReleaseError';
}

const releasesDir = ({ root }: ReleaseRoot) => join(root, 'releases');
const currentLink = ({ root }: ReleaseRoot) => join(root, 'current');
const previousLink = ({ root }: ReleaseRoot) => join(root, 'previous');

/** `20261130-175500-abc1234`: sorts by time, says which commit. */
export function releaseId(date: Date, commit: string): string {
  const stamp = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace('T', '-')
    .replace(/\.\d+Z$/, '');
  return `${stamp}-${commit.slice(0, 7)}`;
}

async function target(link: string): Promise<string | undefined> {
  try {
    return await readlink(link);
  } catch {
    return undefined;
  }
}

/** Points `link` at `to` in one rename, so nothing ever sees it missing. */
async function repoint(link: string, to: string): Promise<void> {
  const staging = `${link}.new`;
  await rm(staging, { force: true });
  await symlink(to, staging);
  await rename(staging, link);
}

function run(command: string, args: string[], options: { cwd: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new ReleaseError(`${command} ${args.join(' ')} failed: ${err.trim()}`)),
    );
  });
}

/** The tree of `commit`, exactly as committed (no untracked or ignored files). */
async function exportCommit(repo: string, commit: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  // Two processes, each exit status checked: a failing `git archive` is not hidden by tar.
  const archive = spawn('git', ['archive', '--format=tar', commit], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const extract = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'ignore', 'pipe'] });
  archive.stdout.pipe(extract.stdin);
  const finished = (child: ReturnType<typeof spawn>, name: string) =>
    new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new ReleaseError(`${name} failed: ${err.trim()}`)),
      );
    });
  await Promise.all([finished(archive, `git archive ${commit}`), finished(extract, 'tar -x')]);
}

/**
 * One upgrade or rollback at a time: a directory made atomically, holding the
 * owner's pid; one left by a process that is gone is taken over.
 */
export async function withReleaseLock<T>(layout: ReleaseRoot, work: () => Promise<T>): Promise<T> {
  const lock = join(releasesDir(layout), '.lock');
  await mkdir(releasesDir(layout), { recursive: true });
  try {
    await mkdir(lock);
  } catch {
    const owner = Number((await readFile(join(lock, 'pid'), 'utf8').catch(() => '')).trim());
    if (owner > 0 && processAlive(owner)) {
      throw new ReleaseError(`another upgrade or rollback is running (pid ${owner}); wait for it`);
    }
  }
  await writeFile(join(lock, 'pid'), `${process.pid}\n`);
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Builds an interrupted upgrade left behind (Ctrl-C skips the cleanup), removed before the next. */
async function removeAbandonedBuilds(layout: ReleaseRoot): Promise<void> {
  const names = await readdir(releasesDir(layout)).catch(() => [] as string[]);
  for (const name of names.filter((entry) => /^\..+\.partial$/.test(entry))) {
    await rm(join(releasesDir(layout), name), { recursive: true, force: true });
  }
}

export interface CreatedRelease {
  id: string;
  path: string;
  /** Uncommitted changes in the checkout, which the release does not have. */
  uncommitted: boolean;
}

/**
 * Builds `repo`'s HEAD into a new release. Nothing running is touched: the
 * tree is built under a hidden name and renamed into place only once built;
 * a failed build leaves no release behind.
 */
export async function createRelease(
  layout: ReleaseRoot,
  repo: string,
  build: BuildRelease,
  now = new Date(),
): Promise<CreatedRelease> {
  const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).trim();
  const uncommitted = (await run('git', ['status', '--porcelain'], { cwd: repo })).trim() !== '';
  const id = releaseId(now, commit);
  const path = join(releasesDir(layout), id);
  if (existsSync(path)) throw new ReleaseError(`release ${id} exists already`);
  const partial = join(releasesDir(layout), `.${id}.partial`);
  await removeAbandonedBuilds(layout);
  try {
    await exportCommit(repo, commit, partial);
    const info: ReleaseInfo = { commit, builtAt: now.toISOString() };
    await writeFile(join(partial, 'RELEASE'), `${JSON.stringify(info)}\n`);
    await build(partial);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  return { id, path, uncommitted };
}

/** Makes `id` the current release; the one it replaces becomes `previous`. */
export async function switchTo(
  layout: ReleaseRoot,
  id: string,
): Promise<{ from?: string; to: string }> {
  const to = join(releasesDir(layout), id);
  if (!existsSync(to)) throw new ReleaseError(`no release ${id} in ${releasesDir(layout)}`);
  const from = await target(currentLink(layout));
  await repoint(currentLink(layout), to);
  if (from && from !== to) await repoint(previousLink(layout), from);
  return { from, to };
}

/** Swaps `current` and `previous`: the release before is running again. */
export async function rollback(layout: ReleaseRoot): Promise<{ from?: string; to: string }> {
  const to = await target(previousLink(layout));
  if (!to) {
    throw new ReleaseError(
      'nothing to roll back to: there is no previous release (just upgrade makes one)',
    );
  }
  if (!existsSync(to)) throw new ReleaseError(`the previous release ${to} is gone`);
  const from = await target(currentLink(layout));
  await repoint(currentLink(layout), to);
  if (from) await repoint(previousLink(layout), from);
  return { from, to };
}

/** Every release, newest first, with which is current and which previous. */
export async function listReleases(layout: ReleaseRoot): Promise<Release[]> {
  let names: string[];
  try {
    names = await readdir(releasesDir(layout));
  } catch {
    return [];
  }
  const current = await target(currentLink(layout));
  const previous = await target(previousLink(layout));
  const releases: Release[] = [];
  for (const id of names
    .filter((name) => !name.startsWith('.'))
    .sort()
    .reverse()) {
    const path = join(releasesDir(layout), id);
    let info: ReleaseInfo = { commit: '?', builtAt: '?' };
    try {
      info = JSON.parse(await readFile(join(path, 'RELEASE'), 'utf8')) as ReleaseInfo;
    } catch {
      // Not one of ours, or damaged: listed, never pruned by mistake as current.
    }
    releases.push({
      id,
      path,
      ...info,
      current: current === path,
      previous: previous === path,
    });
  }
  return releases;
}

/** Removes all but the `keep` newest releases, never the current or previous one. */
export async function pruneReleases(layout: ReleaseRoot, keep = 3): Promise<string[]> {
  const releases = await listReleases(layout);
  const removed: string[] = [];
  for (const [index, release] of releases.entries()) {
    if (index < keep || release.current || release.previous) continue;
    await rm(release.path, { recursive: true, force: true });
    removed.push(release.id);
  }
  return removed;
}

/** What `current` points at, named for a person: a release id, or the checkout's path. */
export async function currentName(layout: ReleaseRoot): Promise<string | undefined> {
  const current = await target(currentLink(layout));
  if (!current) return undefined;
  return current.startsWith(`${releasesDir(layout)}/`) ? basename(current) : current;
}
