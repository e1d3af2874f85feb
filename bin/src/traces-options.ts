/**
 * The options of `just traces` (traces.ts): flags, each with an environment
 * variable as its default, so a port can be moved without retyping it.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ASSEMBLER_OPTIONS } from './trace-assembler.js';

export interface TracesOptions {
  /** Address to listen on; loopback unless told otherwise. */
  host: string;
  /** OTLP/gRPC port, 4317 (a collector's). */
  grpcPort: number;
  /** OTLP/HTTP port, 4318 (a collector's). */
  httpPort: number;
  /** Milliseconds without a new span, once its root is in, before a trace is printed. */
  quietMs: number;
  /** Traces waiting at most (memory bound). */
  maxPending: number;
}

export const TRACES_USAGE = `Usage: just traces [options]
Listens for OTLP (gRPC, http/protobuf, http/json) and prints each trace as a tree.

  --host <address>      listen address (HRSERVE_TRACES_HOST, default 127.0.0.1)
  --grpc-port <port>    OTLP/gRPC port (HRSERVE_TRACES_GRPC_PORT, default 4317; 0: any free one)
  --http-port <port>    OTLP/HTTP port (HRSERVE_TRACES_HTTP_PORT, default 4318; 0: any free one)
  --quiet-ms <ms>       wait after a trace's root span before printing it (default ${DEFAULT_ASSEMBLER_OPTIONS.quietMs})
  --max-pending <n>     traces waiting at most; past it the oldest is printed early (default ${DEFAULT_ASSEMBLER_OPTIONS.maxPending})
  -h, --help            this text`;

/** A wrong option or value: one line naming it, then the usage (exit 2). */
export class TracesUsageError extends Error {
  override readonly name = 'TracesUsageError';
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new TracesUsageError(
      `${name} must be a whole number from ${min} to ${max}, not "${text}".`,
    );
  }
  return value;
}

/** Options from `argv` (flags) over `environment` (defaults); undefined when help is asked. */
export function parseTracesOptions(
  argv: string[],
  environment: Record<string, string | undefined>,
): TracesOptions | undefined {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new TracesUsageError((error as Error).message);
  }
  if (values.help) return undefined;
  const pick = (flag: string | undefined, variable: string, fallback: string) =>
    flag ?? environment[variable] ?? fallback;
  return {
    host: pick(values.host, 'HRSERVE_TRACES_HOST', '127.0.0.1'),
    grpcPort: integer(
      '--grpc-port (HRSERVE_TRACES_GRPC_PORT)',
      pick(values['grpc-port'], 'HRSERVE_TRACES_GRPC_PORT', '4317'),
      0,
      65_535,
    ),
    httpPort: integer(
      '--http-port (HRSERVE_TRACES_HTTP_PORT)',
      pick(values['http-port'], 'HRSERVE_TRACES_HTTP_PORT', '4318'),
      0,
      65_535,
    ),
    quietMs: integer(
      '--quiet-ms',
      values['quiet-ms'] ?? String(DEFAULT_ASSEMBLER_OPTIONS.quietMs),
      0,
      600_000,
    ),
    maxPending: integer(
      '--max-pending',
      values['max-pending'] ?? String(DEFAULT_ASSEMBLER_OPTIONS.maxPending),
      1,
      1_000_000,
    ),
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      'grpc-port': { type: 'string' },
      'http-port': { type: 'string' },
      'quiet-ms': { type: 'string' },
      'max-pending': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
