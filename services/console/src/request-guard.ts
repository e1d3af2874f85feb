import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, type FastifyInstance, OPEN_PATHS } from 'hrserve';
import { consoleErrors } from './errors.js';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `console.lan:2022` → `console.lan`; `[::1]:2022` → `[::1]`. */
function hostname(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

/**
 * Whether a browser sent this from another site. Fetch Metadata decides when the browser
 * sends it (every current one does, over https and to localhost): `same-origin` or `none`
 * (typed in, a bookmark) pass, whatever a reverse proxy did to Host. Otherwise the Origin,
 * when there is one, must be the Host, or on a name in CONSOLE_HOSTS (behind a proxy that
 * rewrites Host). curl and scripts send neither header.
 */
function crossSite(
  headers: IncomingHttpHeaders,
  host: string,
  names: ReadonlySet<string> | undefined,
): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin;
  if (typeof origin !== 'string') return false;
  // `null` (a sandboxed frame, a file) or unparsable is another origin too.
  if (!URL.canParse(origin)) return true;
  const { host: originHost, hostname: originName } = new URL(origin);
  return originHost !== host && !(names?.has(originName.toLowerCase()) ?? false);
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

  // Names an operator gave (a reverse proxy's public name): an Origin on them is the console.
  // Not the loopback ones: another port of localhost is another application.
  const configured = options.hosts
    ? new Set(options.hosts.map((name) => name.toLowerCase()))
    : undefined;

  app.addHook('onRequest', async (request) => {
    const host = request.headers.host ?? '';
    const path = request.url.split('?', 1)[0] ?? '';
    // Supervisors and scrapers may use any address.
    if (OPEN_PATHS.has(path) || path === '/metrics') return;
    if (allowed && !allowed.has(hostname(host).toLowerCase())) {
      throw new ApiError(
        consoleErrors.unknownHost,
        `This console is not reached as "${host}". Add the name to CONSOLE_HOSTS to allow it.`,
      );
    }
    if (SAFE_METHODS.has(request.method)) return;
    if (crossSite(request.headers, host, configured)) {
      throw new ApiError(
        consoleErrors.crossSite,
        'Requests that change something must come from the console itself, not from another site.',
      );
    }
  });
}
