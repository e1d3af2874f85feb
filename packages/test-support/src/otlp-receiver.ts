import { OtlpListener, type ReceivedSpan } from '@hrserve/otlp-receiver';

export type { ReceivedSpan } from '@hrserve/otlp-receiver';

/**
 * A real OTLP receiver for tests: OTLP/gRPC, http/protobuf and http/json on
 * loopback (@hrserve/otlp-receiver, which `just traces` runs too), keeping every
 * span it is sent, decoded, in `spans`.
 */
export class OtlpReceiver {
  /** Base URL of OTLP/gRPC, `http://127.0.0.1:P`: OTEL_EXPORTER_OTLP_ENDPOINT for protocol grpc. */
  readonly endpoint: string;
  /** Base URL of OTLP/HTTP, `http://127.0.0.1:Q`: exporters append /v1/traces (http/protobuf, http/json). */
  readonly httpEndpoint: string;

  private constructor(
    private readonly listener: OtlpListener,
    /** Every span received so far, in the order they arrived. */
    readonly spans: ReceivedSpan[],
  ) {
    this.endpoint = listener.grpcEndpoint;
    this.httpEndpoint = listener.httpEndpoint;
  }

  /**
   * gRPC on `port` (default: a free one), e.g. where a collector that was down
   * comes back; HTTP always on a free port.
   */
  static async start(port = 0): Promise<OtlpReceiver> {
    const spans: ReceivedSpan[] = [];
    const listener = await OtlpListener.start({
      grpcPort: port,
      onSpans: (received) => spans.push(...received),
    });
    return new OtlpReceiver(listener, spans);
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
    return this.listener.close();
  }
}
