import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { CLIENT_JOB_ID_PATTERN, validClientJobId } from '../client-job-id.js';
import { currentTraceIds } from '../telemetry/spans.js';

export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACE_ID_HEADER = 'x-trace-id';

/**
 * Reuses the caller's `x-request-id` when it is sane (the client_job_id rule:
 * short, no spaces or control characters, safe to log and echo), so one id
 * follows a call across services; otherwise makes a fresh one.
 */
export function requestIdFor(request: IncomingMessage): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && CLIENT_JOB_ID_PATTERN.test(sent) ? sent : randomUUID();
}

/**
 * Binds the trace id and client_job_id to the request's logger when fastify
 * creates it, so every line of the request carries them, "incoming request"
 * included. It runs inside the HTTP server span's context, hence the trace id.
 */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
  rawRequest,
) => {
  const traceIds = currentTraceIds();
  const jobId = validClientJobId(rawRequest.url ?? '', rawRequest.headers);
  return logger.child(
    {
      ...bindings,
      ...(traceIds ? { trace_id: traceIds.traceId } : {}),
      ...(jobId !== undefined ? { client_job_id: jobId } : {}),
    },
    options,
  );
};

/**
 * Echoes the request id and the trace id as response headers. Metadata travels
 * in headers (and traces), never in API bodies, which keep the API's own shape.
 */
const requestContextPlugin: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const traceIds = currentTraceIds();
    if (traceIds) reply.header(TRACE_ID_HEADER, traceIds.traceId);
  });
};

export default fp(requestContextPlugin, { name: 'hrserve-request-context', fastify: '5.x' });
