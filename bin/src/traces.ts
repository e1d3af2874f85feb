/**
 * `just traces`: where to see traces on a host with nothing installed. Listens
 * for OTLP where a collector would (gRPC 127.0.0.1:4317, HTTP 127.0.0.1:4318;
 * the units export to localhost:4317 already) and prints each trace, once it is
 * complete, as an indented tree grouped by service (render-trace.ts). Spans go
 * nowhere else: for storage and a UI, run the OpenTelemetry Collector and Jaeger
 * or Tempo instead (otelcol/, README "Seeing your traces").
 *
 *   just traces [--grpc-port 4317] [--http-port 4318] [--host 127.0.0.1] [--quiet-ms 2000]
 */
import { OtlpListener, type OtlpProtocol, PortInUseError } from '@hrserve/otlp-receiver';
import { renderTrace } from './render-trace.js';
import { DEFAULT_ASSEMBLER_OPTIONS, TraceAssembler } from './trace-assembler.js';
import {
  parseTracesOptions,
  TRACES_USAGE,
  type TracesOptions,
  TracesUsageError,
} from './traces-options.js';

/** How often waiting traces are checked for completeness. */
const TICK_MS = 200;
/** Longest wait at stop for exports in flight to be answered. */
const CLOSE_TIMEOUT_MS = 2_000;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

function readOptions(): TracesOptions {
  try {
    const options = parseTracesOptions(process.argv.slice(2), process.env);
    if (options) return options;
    process.stdout.write(`${TRACES_USAGE}\n`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof TracesUsageError)) throw error;
    process.stderr.write(`just traces: ${error.message}\n${TRACES_USAGE}\n`);
    process.exit(2);
  }
}

const options = readOptions();
const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const spansBy: Record<OtlpProtocol, number> = { grpc: 0, 'http/protobuf': 0, 'http/json': 0 };
const assembler = new TraceAssembler(
  (trace) => process.stdout.write(renderTrace(trace, { color })),
  { ...DEFAULT_ASSEMBLER_OPTIONS, quietMs: options.quietMs, maxPending: options.maxPending },
);
// `just traces | head`: the reader has gone, so stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

let listener: OtlpListener;
try {
  listener = await OtlpListener.start({
    host: options.host,
    grpcPort: options.grpcPort,
    httpPort: options.httpPort,
    onSpans: (spans, protocol) => {
      spansBy[protocol] += spans.length;
      assembler.add(spans, Date.now());
    },
  });
} catch (error) {
  if (!(error instanceof PortInUseError)) throw error;
  process.stderr.write(`just traces: ${error.message}\n`);
  process.exit(1);
}

const timer = setInterval(() => assembler.tick(Date.now()), TICK_MS);
process.stderr.write(
  `Listening for OTLP on ${listener.grpcEndpoint} (gRPC) and ${listener.httpEndpoint} (http/protobuf, http/json). ` +
    `A trace is printed once its root span has ended and ${options.quietMs} ms pass without more of it. ` +
    'Services under their units export here already; elsewhere set OTEL_EXPORTER_OTLP_ENDPOINT. Ctrl-C stops.\n',
);

let stopping = false;
async function stop(): Promise<void> {
  // A second Ctrl-C leaves at once.
  if (stopping) process.exit(130);
  stopping = true;
  clearInterval(timer);
  assembler.flushAll();
  await Promise.race([
    listener.close(),
    new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref()),
  ]);
  const { traceExports, metricExports } = listener.counts;
  const spans = Object.entries(spansBy).map(([protocol, count]) => `${count} over ${protocol}`);
  process.stderr.write(
    `Received ${plural(traceExports, 'trace export')} (spans: ${spans.join(', ')}) and ${plural(metricExports, 'metric export')} (counted, not shown).\n`,
  );
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
