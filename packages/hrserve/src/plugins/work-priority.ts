import { type Context, context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { FastifyPluginAsync, RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import {
  BATCH_WORK_HEADER,
  isBatchWorkToken,
  type WorkPriority,
} from '../scheduling/work-priority.js';

export interface WorkPriorityDecoration {
  /**
   * `batch` for a batch line this process sent itself (it carries the process's batch-work
   * token); `interactive` for every request from a client. Engines admit batch work only
   * where interactive work leaves room.
   */
  workPriority: WorkPriority;
  /**
   * A batch line's trace context (its `traceparent`): the route runs in it, so the line's
   * spans (the generation's, the queue wait's) are its span's children. `app.inject`, which
   * sends the line, keeps no async context of its caller's, and makes no HTTP server span.
   */
  workContext: Context | null;
}

declare module 'fastify' {
  interface FastifyRequest extends WorkPriorityDecoration {}
}

/**
 * Marks the requests a batch runner sends through the service's own routes. The token is
 * removed from the headers at once, so no log or span carries it.
 */
const workPriorityPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('workPriority', 'interactive');
  app.decorateRequest('workContext', null);
  app.addHook('onRequest', async (request) => {
    const token = request.headers[BATCH_WORK_HEADER];
    if (token === undefined) return;
    delete request.headers[BATCH_WORK_HEADER];
    if (!isBatchWorkToken(token)) return;
    request.workPriority = 'batch';
    if (request.headers.traceparent) {
      request.workContext = propagation.extract(ROOT_CONTEXT, request.headers);
    }
  });
  // Every route added after this plugin runs its handler in a batch line's trace context.
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function (request, reply) {
      const parent = request.workContext;
      return parent
        ? context.with(parent, () => handler.call(this, request, reply))
        : handler.call(this, request, reply);
    };
  });
};

export default fp(workPriorityPlugin, { name: 'hrserve-work-priority', fastify: '5.x' });
