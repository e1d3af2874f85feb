import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * The directory a service keeps its state in: `$XDG_DATA_HOME/hrserve/<service>`, by default
 * `~/.local/share/hrserve/<service>` (the XDG Base Directory spec ignores a relative or empty
 * XDG_DATA_HOME). The caller passes its environment: this package reads none itself.
 * `openStore` creates the directory (mode 0700) when it is missing.
 */
export function serviceDataDir(
  service: string,
  env: { readonly XDG_DATA_HOME?: string | undefined },
): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(service)) {
    throw new TypeError(
      `service name ${JSON.stringify(service)} cannot name a directory: use lowercase letters, digits and dashes`,
    );
  }
  const dataHome = env.XDG_DATA_HOME;
  const base = dataHome && isAbsolute(dataHome) ? dataHome : join(homedir(), '.local', 'share');
  return join(base, 'hrserve', service);
}
