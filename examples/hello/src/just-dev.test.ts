import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type PtyProcess, spawnInPty } from './__fixtures__/pty.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
// The `just` that `./pnpm exec just` and node_modules/.bin on PATH run (the rust-just wrapper).
const JUST = join(REPO, 'node_modules/.bin/just');

let pty: PtyProcess | undefined;
afterEach(() => pty?.kill());

/** A HOME whose ~/.config/hrserve/hello.env holds `settings`, as `just config hello` makes it. */
async function homeWithSettings(settings: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'just-dev-home-'));
  await mkdir(join(home, '.config/hrserve'), { recursive: true, mode: 0o700 });
  await writeFile(join(home, '.config/hrserve/hello.env'), settings, { mode: 0o600 });
  return home;
}

/**
 * This environment with another HOME. ./pnpm runs pnpm through npx, which still needs the
 * real npm settings (a registry CA, say) and cache: without them it may wait on the registry.
 */
function envWithHome(home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: home,
    npm_config_userconfig: process.env.npm_config_userconfig ?? join(homedir(), '.npmrc'),
    npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
    // Where ./pnpm keeps the Node it fetched (HRSERVE_NODE_VERSION): not again per HOME.
    XDG_DATA_HOME: process.env.XDG_DATA_HOME ?? join(homedir(), '.local/share'),
  };
}

// Each builds hello through turbo and runs pnpm through npx first: tens of seconds on a slow host.
const SLOW = { timeout: 180_000 };

describe('just dev <service>', () => {
  it(
    'runs it with its settings file, the command line winning, and stops it cleanly on Ctrl-C',
    SLOW,
    async () => {
      const home = await homeWithSettings(
        [
          '# as the unit reads it (EnvironmentFile=)',
          'PORT=0',
          "HELLO_GREETING='Howdy # partner'",
          'LOG_LEVEL=warn',
          'OTEL_SDK_DISABLED=true',
        ].join('\n'),
      );
      // As the README says it (./pnpm runs pnpm itself, not under npx, which exits 130 on Ctrl-C).
      pty = spawnInPty(`LOG_LEVEL=info exec ./pnpm exec just dev hello`, {
        cwd: REPO,
        env: envWithHome(home),
      });
      // LOG_LEVEL=info from the command line beat the file's warn, or this line would not show.
      const start = await pty.waitFor(
        /INFO: serving \{"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
        120_000,
      );
      expect(start).toContain(
        `settings from ${home}/.config/hrserve/hello.env: PORT, HELLO_GREETING, OTEL_SDK_DISABLED; given on the command line instead: LOG_LEVEL`,
      );
      const url = /INFO: serving \{"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(start)?.[1];
      // The file's value, quoted as systemd reads it (a # inside quotes is no comment).
      const hello = await fetch(`${url}/v1/hello?name=test`);
      expect(await hello.json()).toEqual({ message: 'Howdy # partner, test!' });

      pty.interrupt();
      expect(await pty.exited).toBe(0);
      const output = pty.output();
      expect(output).toMatch(
        /INFO: shutting down: draining in-flight requests \{"signal":"SIGINT"/,
      );
      expect(output).toMatch(/INFO: stopped\n$/);
      // Neither just nor its npm wrapper had anything to say: no "interrupted", no "signal 15".
      expect(output).not.toMatch(/error:|interrupted|terminated|second signal/i);
    },
  );

  it("fails with the service's exit status when it cannot start", SLOW, async () => {
    const home = await homeWithSettings('PORT=not-a-port\nOTEL_SDK_DISABLED=true\n');
    pty = spawnInPty(`exec '${JUST}' dev hello`, {
      cwd: REPO,
      env: envWithHome(home),
    });
    // EX_CONFIG from the service, handed on by the recipe's last line.
    await pty.waitFor(/PORT="not-a-port"/, 120_000);
    expect(await pty.exited).toBe(78);
    expect(pty.output()).toContain('PORT="not-a-port"');
  });
});
