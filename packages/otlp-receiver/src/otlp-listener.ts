import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { startGrpcTransport, stopGrpcTransport } from './grpc-transport.js';
import { startHttpTransport, stopHttpTransport } from './http-transport.js';
import { OtlpCodec, type OtlpEncoding } from './otlp-codec.js';
import type { ReceivedSpan } from './received-span.js';

/** The OTLP transports, as OTEL_EXPORTER_OTLP_PROTOCOL names them. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface OtlpListenerOptions {
  /** Address both transports bind. Defaults to `127.0.0.1`: this host only. */
  host?: string;
  /** Port of OTLP/gRPC. Defaults to 0, a free port (a collector's is 4317). */
  grpcPort?: number;
  /** Port of OTLP/HTTP. Defaults to 0, a free port (a collector's is 4318). */
  httpPort?: number;
  /** Largest export accepted, in bytes (after decompression). Defaults to 16 MiB. */
  maxBodyBytes?: number;
  /** Called with the spans of each trace export, in the order they were sent. */
  onSpans?: (spans: ReceivedSpan[], protocol: OtlpProtocol) => void;
}

/** What the listener has received since it started. */
export interface OtlpCounts {
  traceExports: number;
  spans: number;
  metricExports: number;
  metrics: number;
}

/** A port another process holds: a collector, most likely. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly address: string,
    readonly transport: 'OTLP/gRPC' | 'OTLP/HTTP',
  ) {
    const port = address.slice(address.lastIndexOf(':') + 1);
    super(
      `${address} (${transport}) is already in use, perhaps by a collector; see who holds it with \`ss -ltnp 'sport = :${port}'\`, or choose another port.`,
    );
  }
}

const DEFAULT_MAX_BODY_BYTES = 16 * 2 ** 20;

/** Whether `host:port` can be bound now (checked so grpc-js does not log its own error first). */
async function ensureFree(host: string, port: number, transport: PortInUseError['transport']) {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' ? new PortInUseError(`${host}:${port}`, transport) : error,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/**
 * A real OTLP receiver: traces and metrics over OTLP/gRPC and OTLP/HTTP
 * (protobuf and JSON), each decoded into plain spans handed to `onSpans`.
 * Metrics are counted, not decoded, so services exporting them see success.
 * It keeps no spans itself: the tests' receiver stores them, `just traces` prints them.
 */
export class OtlpListener {
  private constructor(
    /** What it has received so far, updated as exports arrive. */
    readonly counts: Readonly<OtlpCounts>,
    private readonly grpcServer: grpc.Server,
    private readonly httpServer: HttpServer,
    /** Base URL of OTLP/gRPC, `http://127.0.0.1:P`: OTEL_EXPORTER_OTLP_ENDPOINT with protocol grpc. */
    readonly grpcEndpoint: string,
    /** Base URL of OTLP/HTTP, `http://127.0.0.1:Q`: exporters append /v1/traces and /v1/metrics. */
    readonly httpEndpoint: string,
  ) {}

  /** Binds both transports; PortInUseError names the one whose port is taken. */
  static async start(options: OtlpListenerOptions = {}): Promise<OtlpListener> {
    const host = options.host ?? '127.0.0.1';
    const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const codec = OtlpCodec.load();
    const counts: OtlpCounts = { traceExports: 0, spans: 0, metricExports: 0, metrics: 0 };
    const receive = (
      signal: 'traces' | 'metrics',
      body: Buffer,
      encoding: OtlpEncoding,
      protocol: OtlpProtocol,
    ) => {
      if (signal === 'metrics') {
        counts.metrics += codec.decodeMetricCount(body, encoding);
        counts.metricExports += 1;
        return;
      }
      const spans = codec.decodeTraces(body, encoding);
      counts.traceExports += 1;
      counts.spans += spans.length;
      options.onSpans?.(spans, protocol);
    };

    await ensureFree(host, options.grpcPort ?? 0, 'OTLP/gRPC');
    await ensureFree(host, options.httpPort ?? 0, 'OTLP/HTTP');
    const grpcTransport = await startGrpcTransport(host, options.grpcPort ?? 0, {
      maxBodyBytes,
      onExport: ({ signal, body }) => receive(signal, body, 'protobuf', 'grpc'),
    }).catch((error: Error) => {
      throw /EADDRINUSE/.test(error.message)
        ? new PortInUseError(`${host}:${options.grpcPort}`, 'OTLP/gRPC')
        : error;
    });
    let httpServer: HttpServer;
    try {
      httpServer = await startHttpTransport(host, options.httpPort ?? 0, {
        codec,
        maxBodyBytes,
        onExport: ({ signal, body, encoding }) =>
          receive(signal, body, encoding, encoding === 'json' ? 'http/json' : 'http/protobuf'),
      });
    } catch (error) {
      await stopGrpcTransport(grpcTransport.server);
      throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? new PortInUseError(`${host}:${options.httpPort}`, 'OTLP/HTTP')
        : error;
    }
    const httpPort = (httpServer.address() as { port: number }).port;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return new OtlpListener(
      counts,
      grpcTransport.server,
      httpServer,
      `http://${urlHost}:${grpcTransport.port}`,
      `http://${urlHost}:${httpPort}`,
    );
  }

  /** Stops both transports: no new exports, those in flight answered. */
  async close(): Promise<void> {
    await Promise.all([stopGrpcTransport(this.grpcServer), stopHttpTransport(this.httpServer)]);
  }
}
