import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { CLIENT_JOB_ID_HEADER, CLIENT_JOB_ID_QUERY, readClientJobId } from '../client-job-id.js';
import { ApiError, errorCatalogue } from '../errors/catalogue.js';

export interface ClientJobIdDecoration {
  /** The caller's validated client_job_id, or null when none was sent. */
  clientJobId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest extends ClientJobIdDecoration {}
}

/**
 * Validates `client_job_id` (query) / `X-Client-Job-ID` (header), rejects a bad
 * one with 400 naming the rule, and otherwise echoes it in `X-Client-Job-ID`.
 * The span attribute is set by the HTTP instrumentation as the server span
 * starts (telemetry/setup.ts) and the log field by the request logger factory
 * (request-context.ts), both with the same rule, so every line and span of the
 * request carries it.
 */
const clientJobIdPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('clientJobId', null);
  app.addHook('onRequest', async (request, reply) => {
    const result = readClientJobId(request.url, request.headers);
    switch (result.kind) {
      case 'absent':
        return;
      case 'invalid':
        throw new ApiError(
          errorCatalogue.invalidClientJobId,
          result.source === 'query'
            ? `Invalid query parameter '${CLIENT_JOB_ID_QUERY}': ${result.reason}.`
            : `Invalid header 'X-Client-Job-ID': ${result.reason}.`,
          { param: result.source === 'query' ? CLIENT_JOB_ID_QUERY : CLIENT_JOB_ID_HEADER },
        );
      case 'valid':
        request.clientJobId = result.value;
        reply.header('x-client-job-id', result.value);
        return;
      default:
        void (result satisfies never);
    }
  });
};

export default fp(clientJobIdPlugin, { name: 'hrserve-client-job-id', fastify: '5.x' });
