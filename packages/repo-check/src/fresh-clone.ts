import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A clone of the checkout as a newcomer would have it, with `../shared` beside it. */
export interface FreshClone {
  /** The clone's root: where README commands run. */
  dir: string;
  /** An empty home directory for the commands (what they write under ~ lands here). */
  home: string;
  remove(): void;
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function nulList(output: string): string[] {
  return output.split('\0').filter(Boolean);
}

/**
 * `git clone` of `repoRoot` into a temporary folder beside a link to `../shared`, with
 * the working tree's uncommitted changes laid over it (files changed, added or deleted
 * since HEAD, staged or not, and untracked files git does not ignore), so a developer's
 * edit is tried before it is committed.
 * No node_modules, dist or turbo cache comes along.
 */
export function freshClone(repoRoot: string): FreshClone {
  const root = mkdtempSync(path.join(tmpdir(), 'hrserve-readme-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    return cloneInto(root, repoRoot, remove);
  } catch (error) {
    remove();
    throw error;
  }
}

function cloneInto(root: string, repoRoot: string, remove: () => void): FreshClone {
  const dir = path.join(root, 'hrserve');
  const home = path.join(root, 'home');
  mkdirSync(home);
  const shared = path.resolve(repoRoot, '..', 'shared');
  if (existsSync(shared)) symlinkSync(shared, path.join(root, 'shared'));
  git(root, ['clone', '--quiet', '--no-hardlinks', repoRoot, dir]);

  // Changed since HEAD (staged or not; renames as a deletion and an addition), then untracked.
  const changed = [
    ...nulList(git(repoRoot, ['diff', '--name-only', '--no-renames', '-z', 'HEAD'])),
    ...nulList(git(repoRoot, ['ls-files', '-z', '--others', '--exclude-standard'])),
  ];
  for (const file of changed) {
    const source = path.join(repoRoot, file);
    const target = path.join(dir, file);
    if (!existsSync(source)) {
      rmSync(target, { force: true });
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(source, target, { verbatimSymlinks: true });
  }

  return { dir, home, remove };
}
