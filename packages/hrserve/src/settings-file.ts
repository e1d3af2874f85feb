import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a service's unit reads its local settings (EnvironmentFile=, bin/src/install-layout.ts). */
export function settingsFileOf(service: string, home: string = homedir()): string {
  return join(home, '.config', 'hrserve', `${service}.env`);
}

/**
 * A warning when the settings file (API keys live there) can be read or
 * written by other users, with the fix; undefined when it is private or absent.
 */
export function settingsFileWarning(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return `${path} is readable by other users (mode ${octal}) and may hold API keys: chmod 600 ${path} (or run: just config <service>)`;
}
