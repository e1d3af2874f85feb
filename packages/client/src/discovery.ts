import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The generated port table (`pnpm gen` writes it from the service manifests), beside this checkout's packages. */
const DEFAULT_PORTS_FILE = fileURLToPath(new URL('../../../systemd/ports.json', import.meta.url));

export type Environment = Record<string, string | undefined>;

/** `llmchat` → `HRSERVE_LLMCHAT_URL`: the variable that overrides a service's address. */
export function urlVariable(service: string): string {
  return `HRSERVE_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}

/** Service name → port, from `HRSERVE_PORTS_FILE` or the checkout's `systemd/ports.json`. */
export function readPortTable(env: Environment = process.env): Record<string, number> {
  const file = env.HRSERVE_PORTS_FILE ?? DEFAULT_PORTS_FILE;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch (error) {
    throw new Error(
      `Cannot read the port table ${file} (${error instanceof Error ? error.message : String(error)}). Run \`pnpm gen\`, or set HRSERVE_PORTS_FILE.`,
    );
  }
}

/**
 * A service's base URL by name, so services call each other by name and not
 * by hard-coded port: `HRSERVE_<NAME>_URL` when set, else
 * `http://<HRSERVE_HOST or 127.0.0.1>:<port from the port table>`.
 */
export function serviceUrl(service: string, env: Environment = process.env): string {
  const override = env[urlVariable(service)];
  if (override) return override.replace(/\/+$/, '');
  const ports = readPortTable(env);
  const port = ports[service];
  if (port === undefined) {
    throw new Error(
      `Unknown service "${service}". The port table has: ${Object.keys(ports).sort().join(', ')}. Set ${urlVariable(service)} to reach another.`,
    );
  }
  return `http://${env.HRSERVE_HOST ?? '127.0.0.1'}:${port}`;
}
