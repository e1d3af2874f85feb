/**
 * OTLP/gRPC (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc): the collector's
 * TraceService/Export and MetricsService/Export. The methods take the request's
 * bytes as they are (no serializer of grpc-js' own), so the same protobuf codec
 * as OTLP/HTTP decodes them; grpc-js undoes gzip (`grpc-encoding`) itself.
 */
import * as grpc from '@grpc/grpc-js';
import { OtlpDecodeError } from './received-span.js';

/** What the transport hands over: one export's protobuf payload. */
export interface GrpcExport {
  signal: 'traces' | 'metrics';
  body: Buffer;
}

export interface GrpcTransportOptions {
  /** Largest request message in bytes; grpc-js refuses more with RESOURCE_EXHAUSTED. */
  maxBodyBytes: number;
  /** Handles one export; throws OtlpDecodeError for a payload that is not OTLP. */
  onExport: (payload: GrpcExport) => void;
}

const raw = (bytes: Buffer) => bytes;
/** An empty ExportTraceServiceResponse / ExportMetricsServiceResponse: zero bytes. */
const EMPTY_RESPONSE = Buffer.alloc(0);

function exportMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
}

function exportHandler(
  signal: GrpcExport['signal'],
  options: GrpcTransportOptions,
): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    try {
      options.onExport({ signal, body: call.request });
      callback(null, EMPTY_RESPONSE);
    } catch (error) {
      const invalid = error instanceof OtlpDecodeError;
      callback({
        code: invalid ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL,
        details: invalid ? error.message : 'receiver failed',
      });
    }
  };
}

/** Listens on `host:port` (0: a free port); resolves with the server and the port bound. */
export async function startGrpcTransport(
  host: string,
  port: number,
  options: GrpcTransportOptions,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxBodyBytes,
  });
  server.addService(
    { Export: exportMethod('/opentelemetry.proto.collector.trace.v1.TraceService/Export') },
    { Export: exportHandler('traces', options) },
  );
  server.addService(
    { Export: exportMethod('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export') },
    { Export: exportHandler('metrics', options) },
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, at) =>
      error ? reject(error) : resolve(at),
    ),
  );
  return { server, port: bound };
}

/**
 * Stops accepting calls and waits for those in flight; exporters' idle HTTP/2
 * sessions do not hold it up.
 */
export function stopGrpcTransport(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}
