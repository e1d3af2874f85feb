import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The generated port table (`pnpm gen`), beside this checkout's packages; clients find services by it. */
const DEFAULT_PORTS_FILE = fileURLToPath(new URL('../../../systemd/ports.json', import.meta.url));

/** The port table's entry for `service`, or undefined when there is no table or no entry. */
export function tablePort(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): number | undefined {
  try {
    const table = JSON.parse(read(env.HRSERVE_PORTS_FILE ?? DEFAULT_PORTS_FILE)) as Record<
      string,
      unknown
    >;
    const port = table[service];
    return typeof port === 'number' ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why `port` may not be used, or undefined: the port table is what clients
 * (`serviceUrl()`, hrchat, `just port`) use to find a service, so a service
 * listening elsewhere cannot be found. 0 (a free port, for tests) is exempt.
 */
export function portConflict(
  service: string,
  port: number,
  table: number | undefined,
): string | undefined {
  if (table === undefined || port === 0 || port === table) return undefined;
  return `PORT=${port} differs from the port table (systemd/ports.json: ${service} is on ${table}), which clients use to find ${service}. Remove PORT from its settings file, or change the port in services/${service}/package.json ("hrserve" block) and run just gen.`;
}
