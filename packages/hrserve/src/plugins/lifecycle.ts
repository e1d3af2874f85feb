import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, errorCatalogue } from '../errors/catalogue.js';

/** Tracks requests in flight and turns new work away while the service drains. */
export class Lifecycle {
  private inFlightCount = 0;
  private drainingSince: number | null = null;
  private idleWaiters: Array<() => void> = [];

  get inFlight(): number {
    return this.inFlightCount;
  }

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  started(): void {
    this.inFlightCount += 1;
  }

  finished(): void {
    this.inFlightCount -= 1;
    if (this.inFlightCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  /** Resolves true once no request is in flight, or false when `timeoutMs` passes first. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlightCount === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

export interface LifecycleOptions {
  /** Paths still answered while draining (health, liveness, metrics). */
  openPaths: ReadonlySet<string>;
  /** Seconds a turned-away client should wait before retrying elsewhere or here. */
  retryAfterSeconds: number;
}

const lifecyclePlugin: FastifyPluginAsync<LifecycleOptions> = async (app, options) => {
  const lifecycle = new Lifecycle();
  app.decorate('lifecycle', lifecycle);

  app.addHook('onRequest', async (request, reply) => {
    const open = options.openPaths.has(request.url.split('?', 1)[0] ?? '');
    if (lifecycle.draining && !open) {
      // The connection closes after this answer so the client reconnects to a live instance.
      reply.header('connection', 'close');
      throw new ApiError(errorCatalogue.draining, 'The service is shutting down. Retry shortly.', {
        headers: { 'retry-after': String(options.retryAfterSeconds) },
      });
    }
    if (open) return;
    lifecycle.started();
    // 'close' fires exactly once per response, finished or cut off, streams and hijacked replies included.
    reply.raw.once('close', () => lifecycle.finished());
  });

  // Connections that have sent no request yet (a client's pool opening one ahead of need):
  // fastify's close ends idle keep-alive connections but not these, so a stop would wait up
  // to REQUEST_TIMEOUT_MS for each to time out. They are closed as the server closes.
  const silent = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    silent.add(socket);
    socket.once('close', () => silent.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage) => silent.delete(request.socket));
  app.addHook('preClose', async () => {
    for (const socket of silent) socket.destroy();
  });
};

export default fp(lifecyclePlugin, { name: 'hrserve-lifecycle', fastify: '5.x' });
