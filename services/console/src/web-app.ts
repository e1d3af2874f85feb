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
  const common = (reply: { header(name: string, value: string): unknown }) => {
    reply.header('content-security-policy', PAGE_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  };
  // The hashed assets, looked up per request: a new build's files are found without a restart.
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    wildcard: true,
    setHeaders: (reply) => {
      common(reply);
      reply.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  // The page itself, at / only; read again on each request.
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    globIgnore: ['assets/**'],
    decorateReply: false,
    setHeaders: (reply) => {
      common(reply);
      reply.header('cache-control', 'no-cache');
    },
  });
}
