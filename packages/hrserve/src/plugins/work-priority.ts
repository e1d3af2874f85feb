import type { FastifyPluginAsync } from 'fastify';
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
  app.addHook('onRequest', async (request) => {
    const token = request.headers[BATCH_WORK_HEADER];
    if (token === undefined) return;
    delete request.headers[BATCH_WORK_HEADER];
    if (isBatchWorkToken(token)) request.workPriority = 'batch';
  });
};

export default fp(workPriorityPlugin, { name: 'hrserve-work-priority', fastify: '5.x' });
