import { type ChildProcess, spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a newcomer's shell would have: the test runner's, less what pnpm,
 * turbo and vitest add (their variables and node_modules/.bin and runtime entries on
 * PATH), with HOME replaced. The user's npm configuration (~/.npmrc: registry, CA file),
 * npm's cache and XDG_DATA_HOME stay the real ones, so the registry is reached as usual and
 * the pnpm store, ./pnpm's Node and npx's pnpm are reused rather than downloaded again.
 */
export function newcomerEnv(home: string): NodeJS.ProcessEnv {
  const realHome = process.env.HOME ?? '';
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|TURBO_|VITEST|INIT_CWD$|NODE_OPTIONS$|NODE_ENV$)/.test(name)) continue;
    env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((entry) => !entry.includes('/node_modules/') && !entry.includes('/hrserve/runtime/'))
    .join(':');
  env.HOME = home;
  env.XDG_DATA_HOME = process.env.XDG_DATA_HOME ?? `${realHome}/.local/share`;
  env.npm_config_cache = process.env.npm_config_cache ?? `${realHome}/.npm`;
  env.npm_config_userconfig = process.env.npm_config_userconfig ?? `${realHome}/.npmrc`;
  return env;
}

/** `command` in bash, in a process group of its own (so the whole tree can be signalled), no stdin. */
function spawnShell(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): ChildProcess {
  return spawn('bash', ['-c', command], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

/** Runs one README command with bash, as a reader would paste it; never throws. */
export function runCommand(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawnShell(command, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs} ms)`;
      killGroup(child, 'SIGKILL');
      // A grandchild in a session of its own may hold the pipes open: answer on exit.
      const answer = () => resolve({ code: child.exitCode, stdout, stderr });
      if (child.exitCode !== null || child.signalCode !== null) answer();
      else child.once('exit', answer);
    }, options.timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A command that runs until stopped (a server in the foreground), started in the background. */
export interface BackgroundCommand {
  output(): string;
  exited: Promise<number | null>;
  /** SIGINT to its whole process group (Ctrl-C), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export function startInBackground(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): BackgroundCommand {
  const child = spawnShell(command, options);
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // On exit, not close: a grandchild in a session of its own may hold the pipes open.
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    output: () => output,
    exited,
    async stop(graceMs = 30_000) {
      killGroup(child, 'SIGINT');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
