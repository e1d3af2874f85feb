/**
 * Versioned installs, for the justfile's recipes:
 *
 *   release upgrade --repo <checkout>   build its HEAD into a release, switch to it, restart
 *   release rollback                    back to the release before, restart
 *   release list                        every release, which is current and previous
 *   release link-units | unlink-units   the unit links install-units / uninstall-units manage
 *
 * Layout and rules: releases.ts and unit-links.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { unitState, userManagerAnswers } from './fleet.js';
import {
  createRelease,
  currentName,
  listReleases,
  pruneReleases,
  ReleaseError,
  rollback,
  switchTo,
  withReleaseLock,
} from './releases.js';
import { linkUnits, unlinkUnits } from './unit-links.js';

const run = promisify(execFile);
const home = process.env.HOME ?? homedir();
const root = join(home, '.local/share/hrserve');
const unitDir = join(home, '.config/systemd/user');
/**
 * A GPU a service could use: a DRM render node (not just /dev/dri, which any display
 * adapter has, VMs' included), ROCm's /dev/kfd, NVIDIA's control device.
 */
function gpuDeviceNodes(): string[] {
  if (process.env.HRSERVE_GPU_DEVICES !== undefined) {
    return process.env.HRSERVE_GPU_DEVICES.split(/\s+/).filter(Boolean);
  }
  let renderNodes: string[] = [];
  try {
    renderNodes = readdirSync('/dev/dri')
      .filter((name) => name.startsWith('renderD'))
      .map((name) => `/dev/dri/${name}`);
  } catch {
    // No DRM devices at all.
  }
  return [...renderNodes, '/dev/kfd', '/dev/nvidiactl'];
}
const gpuDevices = gpuDeviceNodes();
/** Releases kept besides the current and previous ones. */
const KEEP_RELEASES = 3;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { repo: { type: 'string' } },
});

function step(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new ReleaseError(`\`${command} ${args.join(' ')}\` failed in ${cwd}`)),
    );
  });
}

/** What a release needs to run: its packages (from pnpm's store) and the services built. */
async function build(directory: string): Promise<void> {
  await step('./pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], directory);
  await step(
    './pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=./services/*', '--output-logs=errors-only'],
    directory,
  );
}

async function link(): Promise<void> {
  const report = await linkUnits({ root, unitDir, gpuDevices });
  if (report.gpu) console.log(`GPU device nodes found (${report.gpu}): GPU services may open /dev`);
  for (const name of report.removed) console.log(`removed ${name} (not in this release)`);
}

/**
 * After a switch: systemd rereads the units, and each one running (or starting)
 * restarts on the new tree. One that fails does not stop the others; the
 * failures are listed, and the command fails saying how to go back.
 */
async function restartRunning(goBack: string): Promise<void> {
  if (!(await userManagerAnswers())) {
    console.log('No systemd user manager here: restart the services yourself.');
    return;
  }
  await run('systemctl', ['--user', 'daemon-reload']);
  const report = await linkUnits({ root, unitDir, gpuDevices });
  const failed: string[] = [];
  for (const name of report.linked) {
    const service = name.slice(0, -'.service'.length);
    if (!['active', 'activating', 'reloading'].includes(await unitState(service))) continue;
    console.log(`restarting ${service}`);
    try {
      await run('systemctl', ['--user', 'restart', name]);
    } catch {
      failed.push(service);
    }
  }
  if (failed.length > 0) {
    throw new ReleaseError(
      `${failed.join(', ')} did not start on the new tree (journalctl --user -u ${failed[0]} says why); ${goBack}`,
    );
  }
}

async function main(): Promise<void> {
  switch (positionals[0]) {
    case 'upgrade': {
      const repo = values.repo;
      if (!repo) throw new ReleaseError('release upgrade needs --repo <checkout>');
      await withReleaseLock({ root }, async () => {
        const created = await createRelease({ root }, repo, build);
        if (created.uncommitted) {
          console.log('note: the checkout has uncommitted changes; the release is its last commit');
        }
        const { from } = await switchTo({ root }, created.id);
        await link();
        console.log(
          `current: ${created.id}${from ? ` (was ${from}; just rollback goes back)` : ''}`,
        );
        const pruned = await pruneReleases({ root }, KEEP_RELEASES);
        if (pruned.length > 0) console.log(`removed old releases: ${pruned.join(', ')}`);
        await restartRunning('the units now run the new release: just rollback goes back');
      });
      return;
    }
    case 'rollback': {
      await withReleaseLock({ root }, async () => {
        const { from } = await rollback({ root });
        await link();
        console.log(
          `current: ${await currentName({ root })} (was ${from}; just rollback again to return)`,
        );
        await restartRunning('just rollback again returns to the release it left');
      });
      return;
    }
    case 'list': {
      const releases = await listReleases({ root });
      if (releases.length === 0) {
        console.log(
          `No releases yet; units run ${(await currentName({ root })) ?? 'nothing (just install-units)'}. just upgrade builds one.`,
        );
        return;
      }
      for (const release of releases) {
        const mark = release.current ? 'current ' : release.previous ? 'previous' : '        ';
        console.log(
          `${mark}  ${release.id}  ${release.commit.slice(0, 12)}  built ${release.builtAt}`,
        );
      }
      return;
    }
    case 'link-units':
      await link();
      return;
    case 'unlink-units':
      for (const name of await unlinkUnits({ root, unitDir }))
        console.log(`removed ${join(unitDir, name)}`);
      return;
    default:
      throw new ReleaseError(
        'usage: release upgrade --repo <checkout> | rollback | list | link-units | unlink-units',
      );
  }
}

try {
  await main();
} catch (error) {
  // One line for the operator; a stack only for what is not ours to explain.
  process.stderr.write(
    `${error instanceof ReleaseError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
