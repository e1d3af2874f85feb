import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import {
  metricsOfRequest,
  OtlpDecodeError,
  type ReceivedSpan,
  spansOfRequest,
} from './received-span.js';

/** The two OTLP payload encodings (https://opentelemetry.io/docs/specs/otlp/#otlphttp). */
export type OtlpEncoding = 'protobuf' | 'json';

/**
 * Decodes OTLP export requests in either encoding into one shape and writes the
 * answers. Loaded once per receiver from `otlp.proto`.
 */
export class OtlpCodec {
  private constructor(
    private readonly traceRequest: protobuf.Type,
    private readonly metricsRequest: protobuf.Type,
    private readonly rpcStatus: protobuf.Type,
  ) {}

  static load(): OtlpCodec {
    const root = protobuf.loadSync(fileURLToPath(new URL('./otlp.proto', import.meta.url)));
    return new OtlpCodec(
      root.lookupType('hrserve.otlp.ExportTraceServiceRequest'),
      root.lookupType('hrserve.otlp.ExportMetricsServiceRequest'),
      root.lookupType('hrserve.otlp.RpcStatus'),
    );
  }

  /** The spans of an ExportTraceServiceRequest; OtlpDecodeError when the body is not one. */
  decodeTraces(body: Uint8Array, encoding: OtlpEncoding): ReceivedSpan[] {
    return spansOfRequest(this.plain(this.traceRequest, body, encoding));
  }

  /** How many metrics an ExportMetricsServiceRequest carries. */
  decodeMetricCount(body: Uint8Array, encoding: OtlpEncoding): number {
    return metricsOfRequest(this.plain(this.metricsRequest, body, encoding));
  }

  /** A successful Export's answer: an empty ExportTraceServiceResponse (or metrics'), no partial success. */
  encodeSuccess(encoding: OtlpEncoding): Buffer {
    return encoding === 'json' ? Buffer.from('{}') : Buffer.alloc(0);
  }

  /** The body of an OTLP/HTTP error: a google.rpc.Status (code: a gRPC status code). */
  encodeStatus(encoding: OtlpEncoding, code: number, message: string): Buffer {
    if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
    return Buffer.from(this.rpcStatus.encode(this.rpcStatus.create({ code, message })).finish());
  }

  private plain(type: protobuf.Type, body: Uint8Array, encoding: OtlpEncoding): unknown {
    if (encoding === 'json') {
      try {
        return JSON.parse(Buffer.from(body).toString('utf8'));
      } catch (error) {
        throw new OtlpDecodeError(`not JSON: ${(error as Error).message}`);
      }
    }
    let message: protobuf.Message;
    try {
      message = type.decode(body);
    } catch (error) {
      throw new OtlpDecodeError(`not an OTLP protobuf ${type.name}: ${(error as Error).message}`);
    }
    // lowerCamelCase names (protobufjs' default), 64-bit integers as decimal strings, bytes as Buffers.
    return type.toObject(message, { longs: String });
  }
}
