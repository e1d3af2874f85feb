import { existsSync } from 'node:fs';
import {
  chmod,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  rmdir,
  stat,
  symlink,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The units in ~/.config/systemd/user are links to `<root>/current/systemd/…`,
 * through the `current` symlink: switching a release switches the units'
 * definitions too (after a daemon-reload), and a rollback brings both back.
 */
export interface UnitLinkOptions {
  /** `~/.local/share/hrserve` */
  root: string;
  /** `~/.config/systemd/user` */
  unitDir: string;
  /** Device nodes whose presence means a GPU (any one suffices). */
  gpuDevices: string[];
  /** What `%h` stands for in the units (default: the user's home). */
  home?: string;
}

/**
 * Creates every directory a unit may write (its `ReadWritePaths=`), owner only: with
 * ProtectHome=read-only the service cannot create them itself, and systemd skips a
 * `-`-prefixed path that does not exist, leaving it read-only.
 */
async function createWritablePaths(unit: string, home = homedir()): Promise<void> {
  for (const [, path] of unit.matchAll(/^ReadWritePaths=-?(.+)$/gm)) {
    const directory = (path ?? '').trim().replace(/^%h(?=\/|$)/, home);
    if (!directory.startsWith('/')) continue;
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700);
  }
}

export interface UnitLinkReport {
  linked: string[];
  removed: string[];
  /** The device node found, when GPU services were given /dev. */
  gpu?: string;
}

async function linkTarget(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

async function relink(link: string, to: string): Promise<void> {
  if ((await linkTarget(link)) === to) return;
  await rm(link, { force: true });
  await symlink(to, link);
}

/**
 * Links every unit of the current tree, gives GPU services their drop-in on a
 * host with GPU device nodes (PrivateDevices=no), and removes links of units
 * the current tree no longer has.
 */
export async function linkUnits(options: UnitLinkOptions): Promise<UnitLinkReport> {
  const generated = join(options.root, 'current', 'systemd');
  const names = await readdir(generated);
  await mkdir(options.unitDir, { recursive: true });
  const gpu = options.gpuDevices.find((device) => existsSync(device));
  const report: UnitLinkReport = { linked: [], removed: [], ...(gpu ? { gpu } : {}) };
  for (const name of names.filter((file) => file.endsWith('.service')).sort()) {
    await relink(join(options.unitDir, name), join(generated, name));
    await createWritablePaths(await readFile(join(generated, name), 'utf8'), options.home);
    report.linked.push(name);
  }
  for (const conf of names.filter((file) => file.endsWith('.gpu.conf'))) {
    const service = conf.slice(0, -'.gpu.conf'.length);
    const dropIns = join(options.unitDir, `${service}.service.d`);
    if (gpu) {
      await mkdir(dropIns, { recursive: true });
      await relink(join(dropIns, 'gpu.conf'), join(generated, conf));
    } else {
      await rm(join(dropIns, 'gpu.conf'), { force: true });
    }
  }
  // Ours (pointing into current/systemd) but gone from the current tree.
  for (const name of await readdir(options.unitDir)) {
    const link = join(options.unitDir, name);
    const to = await linkTarget(link);
    if (!to?.startsWith(`${generated}/`) || existsSync(to)) continue;
    await rm(link, { force: true });
    await rm(join(`${link}.d`, 'gpu.conf'), { force: true });
    await rmdir(`${link}.d`).catch(() => {});
    report.removed.push(name);
  }
  return report;
}

/** Removes every unit link (and GPU drop-in) that points into `<root>/current/systemd`. */
export async function unlinkUnits(options: Omit<UnitLinkOptions, 'gpuDevices'>): Promise<string[]> {
  const generated = join(options.root, 'current', 'systemd');
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(options.unitDir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const link = join(options.unitDir, name);
    if ((await linkTarget(link))?.startsWith(`${generated}/`)) {
      await rm(link, { force: true });
      removed.push(name);
    }
    // The GPU drop-in on its own too: `systemctl disable` may have removed the unit's link first.
    const dropIn = join(link, 'gpu.conf');
    if (name.endsWith('.service.d') && (await linkTarget(dropIn))?.startsWith(`${generated}/`)) {
      await rm(dropIn, { force: true });
      if ((await stat(link).catch(() => undefined))?.isDirectory()) {
        await rmdir(link).catch(() => {});
      }
    }
  }
  return removed;
}
