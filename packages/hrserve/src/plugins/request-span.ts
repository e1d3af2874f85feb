import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import {
  REQUEST_ID_ATTRIBUTE,
  setServerSpanAttributes,
  setServerSpanRoute,
} from '../telemetry/server-span.js';

/**
 * Gives the request's HTTP server span what only fastify knows: the route
 * template that matched and the request id. It runs first among the onRequest
 * hooks, so a request refused by a later one (auth, client_job_id) has them too.
 * The error code is added where errors are rendered (plugins/errors.ts).
 */
const requestSpanPlugin: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route !== undefined) setServerSpanRoute(route);
    setServerSpanAttributes({ [REQUEST_ID_ATTRIBUTE]: request.id });
  });
};

export default fp(requestSpanPlugin, { name: 'hrserve-request-span', fastify: '5.x' });
