import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** A span as the collector received it, ids in hex like traceparent. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
  scope: string;
}

interface WireAnyValue {
  value?: 'string_value' | 'bool_value' | 'int_value' | 'double_value';
  string_value?: string;
  bool_value?: boolean;
  int_value?: string;
  double_value?: number;
}
interface WireKeyValue {
  key: string;
  value?: WireAnyValue;
}
interface WireRequest {
  resource_spans: Array<{
    resource?: { attributes: WireKeyValue[] };
    scope_spans: Array<{
      scope?: { name: string };
      spans: Array<{
        trace_id: Buffer;
        span_id: Buffer;
        parent_span_id: Buffer;
        name: string;
        kind: number;
        attributes: WireKeyValue[];
      }>;
    }>;
  }>;
}

function toRecord(attributes: WireKeyValue[] = []): Record<string, string | number | boolean> {
  const record: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    if (!value?.value) continue;
    const raw = value[value.value];
    if (raw !== undefined)
      record[key] = value.value === 'int_value' ? Number(raw) : (raw as string | number | boolean);
  }
  return record;
}

/**
 * A real OTLP/gRPC trace receiver: serves the collector's TraceService/Export
 * on a loopback port and keeps every span it is sent, decoded.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private constructor(
    private readonly server: grpc.Server,
    readonly endpoint: string,
  ) {}

  /** On `port` (default: a free one), e.g. where a collector that was down comes back. */
  static async start(port = 0): Promise<OtlpReceiver> {
    const definition = protoLoader.loadSync(
      fileURLToPath(new URL('./otlp-trace.proto', import.meta.url)),
      {
        keepCase: true,
        longs: String,
        defaults: true,
        oneofs: true,
      },
    );
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      opentelemetry: {
        proto: {
          collector: { trace: { v1: { TraceService: { service: grpc.ServiceDefinition } } } };
        };
      };
    };
    const server = new grpc.Server();
    let receiver: OtlpReceiver | undefined;
    server.addService(proto.opentelemetry.proto.collector.trace.v1.TraceService.service, {
      Export: (
        call: grpc.ServerUnaryCall<WireRequest, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        receiver?.record(call.request);
        callback(null, {});
      },
    });
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${port}`,
        grpc.ServerCredentials.createInsecure(),
        (error, boundPort) => (error ? reject(error) : resolve(boundPort)),
      ),
    );
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${bound}`);
    return receiver;
  }

  private record(request: WireRequest): void {
    for (const resourceSpans of request.resource_spans) {
      const resource = toRecord(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scope_spans) {
        for (const span of scopeSpans.spans) {
          this.spans.push({
            traceId: span.trace_id.toString('hex'),
            spanId: span.span_id.toString('hex'),
            parentSpanId: span.parent_span_id.toString('hex'),
            name: span.name,
            kind: span.kind,
            attributes: toRecord(span.attributes),
            resource,
            scope: scopeSpans.scope?.name ?? '',
          });
        }
      }
    }
  }

  /** Waits until `predicate` holds over the spans received so far. */
  async waitFor(
    predicate: (spans: ReceivedSpan[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.spans)) {
      if (Date.now() > deadline) {
        throw new Error(
          `spans not received in ${timeoutMs} ms; got: ${this.spans.map((span) => span.name).join(', ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.spans;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
