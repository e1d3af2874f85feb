import type { FastifyInstance } from 'hrserve';
import { ApiError, errorCatalogue, parseRequest } from 'hrserve';
import { z } from 'zod';
import { SESSION_COOKIE, type Sessions } from './sessions.js';

const loginBody = z.object({
  api_key: z.string().min(1, { error: 'enter one of the API keys (API_KEYS)' }).max(4096),
});

/**
 * Logging in and out. The cookie is httpOnly (no script reads it) and SameSite=Strict (no
 * other site's page sends it), and Secure when the console is reached over https.
 */
export function registerSessionRoutes(app: FastifyInstance, sessions: Sessions): void {
  app.get('/console/session', async (request) => ({
    login_required: sessions.required,
    logged_in: !sessions.required || sessions.touch(request.cookies[SESSION_COOKIE]),
  }));

  app.post('/console/login', async (request, reply) => {
    const { api_key } = parseRequest(loginBody, request.body);
    if (!sessions.required) return reply.code(204).send();
    if (!sessions.keyIsValid(api_key)) {
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
