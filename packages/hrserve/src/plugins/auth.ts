import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, errorCatalogue } from '../errors/catalogue.js';

export interface AuthOptions {
  /** Accepted keys; an empty list turns authentication off. */
  apiKeys: readonly string[];
  /** Paths that stay open for supervisors (`/health`, `/live`…). */
  openPaths: ReadonlySet<string>;
  /** More of the service's own: paths open to anyone (the console's login page and its assets). */
  isOpen?: (path: string) => boolean;
  /** Another credential the service accepts instead of a key (the console's session cookie). */
  accepts?: (request: FastifyRequest) => boolean;
}

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the key. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1]) return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

/**
 * Whether a presented key is one of `apiKeys`, compared in constant time against every key
 * (no early exit). Shared by the plugin below and services that take a key otherwise (the
 * console's login).
 */
export function keyMatcher(apiKeys: readonly string[]): (key: string) => boolean {
  const keyDigests = apiKeys.map(digest);
  return (key) => {
    const presented = digest(key);
    let matched = false;
    for (const candidate of keyDigests) matched = timingSafeEqual(candidate, presented) || matched;
    return matched;
  };
}

/**
 * Optional API keys: `Authorization: Bearer <key>` or `X-Api-Key: <key>`,
 * compared in constant time against every configured key (no early exit).
 */
const authPlugin: FastifyPluginAsync<AuthOptions> = async (app, options) => {
  if (options.apiKeys.length === 0) return;
  const isKey = keyMatcher(options.apiKeys);

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (options.openPaths.has(path) || options.isOpen?.(path)) return;
    // A batch line this process sent itself: its batch was created with a key.
    if (request.workPriority === 'batch') return;
    const key = presentedKey(request);
    if (key === undefined && options.accepts?.(request)) return;
    if (key === undefined) {
      throw new ApiError(
        errorCatalogue.invalidApiKey,
        'Missing API key. Send it as "Authorization: Bearer <key>" or in the X-Api-Key header.',
      );
    }
    if (!isKey(key)) {
      throw new ApiError(errorCatalogue.invalidApiKey, 'Incorrect API key provided.');
    }
  });
};

export default fp(authPlugin, { name: 'hrserve-auth', fastify: '5.x' });
