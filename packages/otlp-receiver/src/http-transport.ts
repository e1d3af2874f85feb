/**
 * OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp): POST /v1/traces
 * and /v1/metrics, bodies in binary protobuf (`application/x-protobuf`) or JSON
 * (`application/json`), optionally gzip-compressed; the answer is in the
 * request's encoding: 200 with an empty Export*ServiceResponse, or a 4xx with a
 * google.rpc.Status.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { OtlpCodec, OtlpEncoding } from './otlp-codec.js';
import { OtlpDecodeError } from './received-span.js';

const gunzipAsync = promisify(gunzip);

/** gRPC status codes the Status bodies carry (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const INVALID_ARGUMENT = 3;
const UNIMPLEMENTED = 12;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;

/** What the transport hands over: one export's payload, already decompressed. */
export interface HttpExport {
  signal: 'traces' | 'metrics';
  body: Buffer;
  encoding: OtlpEncoding;
}

export interface HttpTransportOptions {
  codec: OtlpCodec;
  /** Largest body, compressed and after decompression, in bytes; more gets 413. */
  maxBodyBytes: number;
  /** Handles one export; throws OtlpDecodeError for a payload that is not OTLP (400). */
  onExport: (payload: HttpExport) => void;
}

const SIGNALS: Record<string, HttpExport['signal']> = {
  '/v1/traces': 'traces',
  '/v1/metrics': 'metrics',
};

/** `application/x-protobuf; charset=…` → protobuf; unknown types → undefined (415). */
function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new HttpError(413, RESOURCE_EXHAUSTED, `body larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function decompress(body: Buffer, contentEncoding: string | undefined, limit: number) {
  const coding = contentEncoding?.trim().toLowerCase() || 'identity';
  if (coding === 'identity') return body;
  if (coding !== 'gzip') {
    throw new HttpError(
      415,
      UNIMPLEMENTED,
      `Content-Encoding ${coding} is not supported (gzip is)`,
    );
  }
  try {
    return await gunzipAsync(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, RESOURCE_EXHAUSTED, `body larger than ${limit} bytes uncompressed`);
    }
    throw new HttpError(400, INVALID_ARGUMENT, `not gzip: ${(error as Error).message}`);
  }
}

function reply(response: ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer) {
  response.writeHead(status, {
    'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    'content-length': body.length,
  });
  response.end(body);
}

async function handle(
  options: HttpTransportOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const encoding = encodingOf(request.headers['content-type']);
  try {
    const signal = SIGNALS[new URL(request.url ?? '/', 'http://receiver').pathname];
    if (!signal)
      throw new HttpError(404, UNIMPLEMENTED, 'OTLP/HTTP paths: /v1/traces, /v1/metrics');
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      throw new HttpError(405, UNIMPLEMENTED, 'OTLP/HTTP exports are POST requests');
    }
    if (!encoding) {
      throw new HttpError(
        415,
        UNIMPLEMENTED,
        `Content-Type ${request.headers['content-type'] ?? '(none)'} is not OTLP: send application/x-protobuf or application/json`,
      );
    }
    const raw = await readBody(request, options.maxBodyBytes);
    const body = await decompress(raw, request.headers['content-encoding'], options.maxBodyBytes);
    try {
      options.onExport({ signal, body, encoding });
    } catch (error) {
      if (error instanceof OtlpDecodeError)
        throw new HttpError(400, INVALID_ARGUMENT, error.message);
      throw error;
    }
    reply(response, 200, encoding, options.codec.encodeSuccess(encoding));
  } catch (error) {
    // A body we did not read may still be arriving: close the connection after answering.
    if (!request.complete) response.setHeader('connection', 'close');
    const known =
      error instanceof HttpError ? error : new HttpError(500, INTERNAL, 'receiver failed');
    // Unknown content types get their error in JSON: there is no request encoding to mirror.
    const answerIn = encoding ?? 'json';
    reply(
      response,
      known.status,
      answerIn,
      options.codec.encodeStatus(answerIn, known.code, known.message),
    );
  }
}

/** Listens on `host:port` (0: a free port); resolves with the server once it listens. */
export async function startHttpTransport(
  host: string,
  port: number,
  options: HttpTransportOptions,
): Promise<Server> {
  const server = createServer((request, response) => void handle(options, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Stops listening and drops open connections (exporters keep theirs alive). */
export function stopHttpTransport(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
