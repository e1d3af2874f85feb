import { readPortTable, serviceUrl } from '@hrserve/client';

/** A service the console shows and reaches. */
export interface ServiceEntry {
  name: string;
  /** Its base URL, e.g. http://127.0.0.1:2020 (HRSERVE_<NAME>_URL overrides the port table). */
  url: string;
}

/**
 * The services the console knows, by name: CONSOLE_SERVICES when set, else every service of
 * the port table but the console itself. Only these are ever proxied to: a browser names a
 * service, never an address.
 */
export class ServiceDirectory {
  readonly #byName: Map<string, ServiceEntry>;

  constructor(entries: readonly ServiceEntry[]) {
    this.#byName = new Map(entries.map((entry) => [entry.name, entry]));
  }

  static fromPortTable(
    self: string,
    only: readonly string[] | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ): ServiceDirectory {
    const names = only ?? Object.keys(readPortTable(env)).filter((name) => name !== self);
    return new ServiceDirectory(names.map((name) => ({ name, url: serviceUrl(name, env) })));
  }

  get(name: string): ServiceEntry | undefined {
    return this.#byName.get(name);
  }

  get names(): string[] {
    return [...this.#byName.keys()];
  }

  get all(): ServiceEntry[] {
    return [...this.#byName.values()];
  }
}

/** Why a call to a service got no answer, in words: ECONNREFUSED means nothing listens. */
export function whyUnreachable(error: unknown): string {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED' ? 'nothing listens' : (code ?? 'no answer');
}
