import { Readable } from 'node:stream';
import {
  ApiError,
  errorCatalogue,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  REQUEST_ID_HEADER,
} from 'hrserve';
import { Agent, fetch, type Response } from 'undici';
import { consoleErrors } from './errors.js';
import { type ServiceDirectory, whyUnreachable } from './services.js';

/** What the browser may say to a service; cookies and its own credentials stay here. */
const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'content-type',
  'last-event-id',
  'x-client-job-id',
] as const;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and what fetch already undid (content-encoding). */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'set-cookie',
  'content-encoding',
  // A service's redirect names its own address, which the browser cannot reach.
  'location',
]);

/**
 * No time limits of the HTTP client's own (undici's 300 s for headers and between body
 * chunks): a long CPU answer or a model load may take longer. The browser's leaving ends a
 * request, as does the service's own timeout.
 */
const upstreamAgent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

export interface ProxyOptions {
  services: ServiceDirectory;
  /** Sent to the services as `Authorization: Bearer …` when they have API keys. */
  serviceApiKey: string | undefined;
}

type ProxyRequest = FastifyRequest<{ Params: { service: string; '*': string } }>;

function unreachable(service: string, url: string, error: unknown): ApiError {
  const why = whyUnreachable(error);
  return new ApiError(
    consoleErrors.serviceUnreachable,
    `${service} (${url}) does not answer: ${why}. Start it (just start ${service}) or check its log (journalctl --user -u ${service}).`,
  );
}

/**
 * `/console/services/<name>/<path>` → `<service url>/<path>`: the browser's calls to the
 * services go through here, so there is no CORS and API keys stay on the server. Bodies
 * stream both ways unbuffered (an SSE answer reaches the browser token by token), and a
 * browser that goes away (tab closed, Stop) aborts the upstream request, so the service
 * stops generating and frees its sequence even while the request still waits in its queue.
 */
export async function proxyRoutes(app: FastifyInstance, options: ProxyOptions): Promise<void> {
  // Bodies pass through as they come: no parsing, no buffering, the service checks them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.all('/console/services/:service/*', async (request: ProxyRequest, reply: FastifyReply) => {
    const entry = options.services.get(request.params.service);
    if (!entry) {
      throw new ApiError(
        consoleErrors.unknownService,
        `No service "${request.params.service}" here. The console knows: ${options.services.names.join(', ') || 'none'} (the port table, or CONSOLE_SERVICES).`,
      );
    }
    // The path as the browser sent it (still percent-encoded), always appended to the
    // service's own address: `//host` in it is a path there, never another host.
    const target = `${entry.url}${request.url.replace(/^\/console\/services\/[^/?]*/, '')}`;

    const headers: Record<string, string> = { [REQUEST_ID_HEADER]: request.id };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (options.serviceApiKey) headers.authorization = `Bearer ${options.serviceApiKey}`;

    // Aborted when the browser's connection closes before the answer is sent to its end.
    const upstream = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) upstream.abort();
    });
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body;
    let response: Response;
    try {
      response = await fetch(target, {
        method: request.method,
        headers,
        signal: upstream.signal,
        redirect: 'manual',
        dispatcher: upstreamAgent,
        ...(hasBody ? { body: Readable.toWeb(request.body as Readable), duplex: 'half' } : {}),
      } as Parameters<typeof fetch>[1]);
    } catch (error) {
      if (upstream.signal.aborted) {
        // The browser left; nobody reads an answer.
        throw new ApiError(errorCatalogue.requestTimeout, 'The client closed the request.');
      }
      throw unreachable(entry.name, entry.url, error);
    }
    if (response.status === 401 || response.status === 403) {
      // The browser is logged in to the console; a service refusing the console's key is a
      // setting to fix, not a reason to log the browser out.
      void response.body?.cancel();
      throw new ApiError(
        consoleErrors.serviceAuthFailed,
        `${entry.name} refused the console's API key. Set CONSOLE_SERVICE_API_KEY (or the console's first API_KEYS) to one of ${entry.name}'s API_KEYS.`,
      );
    }
    reply.code(response.status);
    const encoded = response.headers.has('content-encoding');
    for (const [name, value] of response.headers) {
      if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
      if (name === 'content-length' && encoded) continue;
      reply.header(name, value);
    }
    // A service's answer is data, never a page of the console's origin: a file's content
    // opened in a tab cannot run script here.
    reply.header('content-security-policy', "sandbox; default-src 'none'");
    reply.header('x-content-type-options', 'nosniff');
    if (!response.body) return reply.send();
    return reply.send(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream));
  });
}
