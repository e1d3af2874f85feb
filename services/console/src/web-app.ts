import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'hrserve';

/**
 * What the page may load: only itself (scripts, styles, fonts are bundled; nothing comes
 * from the internet), and no page may frame it.
 */
const PAGE_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Paths anyone may load: the app shell is the login page too; it holds no data. */
export function isWebAppPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/assets/');
}

/**
 * Serves the built single-page app (vite build → dist/web): index.html at `/` (never cached,
 * so a new build shows on reload) and the hashed assets (cached for good).
 */
export async function registerWebApp(app: FastifyInstance, root: string): Promise<void> {
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(
      `The web app is not built (${join(root, 'index.html')} is missing): run ./pnpm --filter console build.`,
    );
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: 'index.html',
    setHeaders: (reply, path) => {
      reply.header('content-security-policy', PAGE_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
}
