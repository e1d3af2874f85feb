import { ApiError, type FastifyInstance } from 'hrserve';
import { consoleErrors } from './errors.js';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `console.lan:2022` → `console.lan`; `[::1]:2022` → `[::1]`. */
function hostname(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

export interface RequestGuardOptions {
  /** The address the console binds (HOST). */
  bind: string;
  /** More names it may be reached by (CONSOLE_HOSTS). */
  hosts: readonly string[] | undefined;
}

/**
 * Two browser-side attacks the console's own pages are not exposed to:
 * - DNS rebinding: a site whose name resolves to 127.0.0.1 would be same-origin with the
 *   console. Requests must name the console by one of its own host names (loopback ones
 *   when it listens on loopback, plus CONSOLE_HOSTS).
 * - Cross-site requests: a form on another site (or another port of the same host, which
 *   SameSite cookies count as the same site) could start generations. A state-changing
 *   request a browser marks as not same-origin (Fetch Metadata's Sec-Fetch-Site, or an
 *   Origin of another host) is refused; curl and scripts send neither.
 */
export function registerRequestGuard(app: FastifyInstance, options: RequestGuardOptions): void {
  const loopback = LOOPBACK_BINDS.has(options.bind);
  const allowed =
    options.hosts || loopback
      ? new Set([...LOOPBACK_HOSTS, ...(options.hosts ?? [])].map((name) => name.toLowerCase()))
      : undefined;

  app.addHook('onRequest', async (request) => {
    const host = request.headers.host ?? '';
    if (allowed && !allowed.has(hostname(host).toLowerCase())) {
      throw new ApiError(
        consoleErrors.unknownHost,
        `This console is not reached as "${host}". Add the name to CONSOLE_HOSTS to allow it.`,
      );
    }
    if (SAFE_METHODS.has(request.method)) return;
    const site = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    // `null` (a sandboxed frame, a file) or unparsable is another origin too.
    const foreignOrigin =
      typeof origin === 'string' && (!URL.canParse(origin) || new URL(origin).host !== host);
    const foreignSite = typeof site === 'string' && site !== 'same-origin' && site !== 'none';
    if (foreignSite || foreignOrigin) {
      throw new ApiError(
        consoleErrors.crossSite,
        'Requests that change something must come from the console itself, not from another site.',
      );
    }
  });
}
