import { Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import {
  ApiError,
  buildApp,
  defineError,
  type FastifyInstance,
  getActiveTelemetry,
  parseRequest,
  startSpan,
} from 'hrserve';
import { z } from 'zod';
import packageJson from '../package.json' with { type: 'json' };
import type { HelloConfig } from './config.js';

/** A service's own error, rendered by the shared handler like every other. */
const relayNotConfigured = defineError('relay_not_configured', 501, 'server_error');

const echoBody = z.object({
  text: z.string().min(1).max(1000),
  repeat: z.int().min(1).max(10).default(1),
});
const countQuery = z.object({
  to: z.coerce.number().int().min(1).max(1000),
  interval_ms: z.coerce.number().int().min(0).max(5000).default(100),
});

/** A service is the shared app plus its own routes; everything else comes from hrserve. */
export async function buildHelloApp(config: HelloConfig): Promise<FastifyInstance> {
  const app = await buildApp({ config, version: packageJson.version });
  const { tracer } = getActiveTelemetry();

  app.get<{ Querystring: { name?: string } }>('/v1/hello', async (request) => ({
    message: `${config.HELLO_GREETING}, ${request.query.name ?? 'world'}!`,
  }));

  app.post('/v1/echo', async (request) => {
    const body = parseRequest(echoBody, request.body);
    return { text: body.text.repeat(body.repeat) };
  });

  // A slow stream: what graceful shutdown must let finish.
  app.get('/v1/count', async (request, reply) => {
    const query = parseRequest(countQuery, request.query, 'query');
    reply.type('text/plain');
    return Readable.from(
      (async function* () {
        for (let i = 1; i <= query.to; i++) {
          await setTimeout(query.interval_ms);
          yield `${i}\n`;
        }
      })(),
    );
  });

  // Calls another service: the trace continues there through the traceparent header.
  app.get<{ Querystring: { name?: string } }>('/v1/relay', async (request) => {
    const upstream = config.HELLO_UPSTREAM_URL;
    if (!upstream)
      throw new ApiError(
        relayNotConfigured,
        'This instance has no upstream; set HELLO_UPSTREAM_URL.',
      );
    return startSpan(tracer, 'hello.relay', { 'hello.upstream': upstream }, async () => {
      const response = await fetch(
        new URL(`/v1/hello?name=${encodeURIComponent(request.query.name ?? 'relay')}`, upstream),
      );
      return { upstream: await response.json() };
    });
  });

  return app;
}
