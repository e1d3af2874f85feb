import type { FastifyInstance } from 'hrserve';
import { ApiError, errorCatalogue, parseRequest } from 'hrserve';
import { z } from 'zod';
import { consoleErrors } from './errors.js';
import { SESSION_COOKIE, type Sessions } from './sessions.js';

/** Wrong keys allowed per address and minute: guessing a key stays hopeless. */
const FAILURES_PER_MINUTE = 10;

const loginBody = z.object({
  api_key: z.string().min(1, { error: 'enter one of the API keys (API_KEYS)' }).max(4096),
});

/**
 * Logging in and out. The cookie is httpOnly (no script reads it) and SameSite=Strict (no
 * other site's page sends it), and Secure when the console is reached over https.
 */
export function registerSessionRoutes(app: FastifyInstance, sessions: Sessions): void {
  const failures = new Map<string, { count: number; until: number }>();
  app.get('/console/session', async (request) => ({
    login_required: sessions.required,
    logged_in: !sessions.required || sessions.touch(request.cookies[SESSION_COOKIE]),
  }));

  app.post('/console/login', async (request, reply) => {
    const { api_key } = parseRequest(loginBody, request.body);
    if (!sessions.required) return reply.code(204).send();
    const now = Date.now();
    const failed = failures.get(request.ip);
    if (failed && failed.until > now && failed.count >= FAILURES_PER_MINUTE) {
      const seconds = Math.ceil((failed.until - now) / 1000);
      throw new ApiError(consoleErrors.tooManyLogins, 'Too many wrong keys from this address.', {
        headers: { 'retry-after': String(seconds) },
      });
    }
    if (!sessions.keyIsValid(api_key)) {
      const current = failed && failed.until > now ? failed : { count: 0, until: now + 60_000 };
      current.count += 1;
      failures.set(request.ip, current);
      if (failures.size > 10_000) failures.delete(failures.keys().next().value ?? '');
      throw new ApiError(
        errorCatalogue.invalidApiKey,
        "That is not one of the console's API keys (API_KEYS in its settings).",
      );
    }
    reply.setCookie(SESSION_COOKIE, sessions.open(), {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/',
    });
    return reply.code(204).send();
  });

  app.post('/console/logout', async (request, reply) => {
    sessions.close(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
}
