import { z } from 'zod';

/**
 * Configuration from the environment: one zod schema per service, parsed once
 * at start-up. Every field carries a description, which doubles as the "how to
 * fix it" line when a value is rejected. No other module reads `process.env`.
 */

/** Environment variables set to an empty string count as unset. */
function unsetIfEmpty(value: unknown): unknown {
  return value === '' ? undefined : value;
}

const booleanFromEnv = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const normalized = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
    if (['false', '0', 'no', 'off'].includes(normalized)) return false;
    return value;
  },
  z.boolean({ error: 'expected true or false' }),
);

const positiveInteger = z.coerce
  .number({ error: 'expected a whole number' })
  .int({ error: 'expected a whole number' })
  .positive({ error: 'expected a number above 0' });

/** A whole number above 0 from the environment: `fallback` when unset or empty, else optional. */
export function envPositiveInteger(description: string): z.ZodType<number | undefined, unknown>;
export function envPositiveInteger(
  description: string,
  fallback: number,
): z.ZodType<number, unknown>;
export function envPositiveInteger(
  description: string,
  fallback?: number,
): z.ZodType<number | undefined, unknown> {
  const schema =
    fallback === undefined ? positiveInteger.optional() : positiveInteger.default(fallback);
  return z.preprocess(unsetIfEmpty, schema).describe(description);
}

/** A comma-separated list from the environment (items trimmed, empty ones dropped), each checked by `item`. */
export function envList<T>(item: z.ZodType<T, string>) {
  return z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry.length > 0)
        : value,
    z.array(item),
  );
}

const commaSeparatedList = envList(z.string());

const DURATION_UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "30d", "12h", "1h30m", "90s", "250ms" or "0", in ms; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(amount) * (DURATION_UNIT_MS[unit ?? 's'] ?? 1000);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** A duration from the environment ("30d", "12h", "0"), as ms; `fallback` when unset or empty. */
export function envDuration(description: string, fallback: string): z.ZodType<number, unknown> {
  return z
    .preprocess(
      unsetIfEmpty,
      z
        .string()
        .default(fallback)
        .transform((value, context) => {
          const ms = parseDuration(value);
          if (ms !== undefined) return ms;
          context.addIssue({
            code: 'custom',
            message: 'expected a duration like 30d, 12h, 90m, 30s, or 0',
          });
          return z.NEVER;
        }),
    )
    .describe(description);
}

/**
 * OTLP transports, named as OTEL_EXPORTER_OTLP_PROTOCOL takes them
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/).
 */
export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/**
 * A collector address. Operators often write `host:port`, as collectors document it;
 * the exporters want a URL, so a missing scheme means plain `http://`.
 */
const otlpEndpoint = z
  .string()
  .trim()
  .transform((value) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`))
  .refine((value) => URL.canParse(value), {
    error: 'expected a URL such as http://collector:4317',
  });

/** OpenTelemetry settings: the standard `OTEL_*` variables the platform honours. */
export const telemetryConfigShape = {
  OTEL_SDK_DISABLED: z
    .preprocess(unsetIfEmpty, booleanFromEnv.default(false))
    .describe('Set to true to turn OpenTelemetry off entirely (no spans, no export).'),
  OTEL_SERVICE_NAME: z
    .preprocess(unsetIfEmpty, z.string().min(1).optional())
    .describe('Overrides the trace service name (default: "<service>-api", e.g. llmchat-api).'),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .preprocess(unsetIfEmpty, z.enum(OTLP_PROTOCOLS).default('grpc'))
    .describe(
      'OTLP transport for traces and metrics: grpc (default, collector port 4317), http/protobuf or http/json (port 4318).',
    ),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z
    .preprocess(unsetIfEmpty, z.enum(OTLP_PROTOCOLS).optional())
    .describe(
      'OTLP transport for traces only (grpc, http/protobuf or http/json); overrides OTEL_EXPORTER_OTLP_PROTOCOL.',
    ),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: z
    .preprocess(unsetIfEmpty, z.enum(OTLP_PROTOCOLS).optional())
    .describe(
      'OTLP transport for metrics only (grpc, http/protobuf or http/json); overrides OTEL_EXPORTER_OTLP_PROTOCOL.',
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .preprocess(unsetIfEmpty, otlpEndpoint.optional())
    .describe(
      'OTLP collector base URL for every signal (default http://localhost:4317 over grpc, http://localhost:4318 over http/*); over HTTP /v1/traces and /v1/metrics are appended to it.',
    ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .preprocess(unsetIfEmpty, otlpEndpoint.optional())
    .describe(
      'OTLP address for traces only, used as is (over HTTP the whole URL, e.g. http://collector:4318/v1/traces); overrides OTEL_EXPORTER_OTLP_ENDPOINT.',
    ),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: z
    .preprocess(unsetIfEmpty, otlpEndpoint.optional())
    .describe(
      'OTLP address for metrics only, used as is (over HTTP the whole URL, e.g. http://collector:4318/v1/metrics); overrides OTEL_EXPORTER_OTLP_ENDPOINT.',
    ),
  OTEL_EXPORTER_OTLP_TIMEOUT: envPositiveInteger(
    'Milliseconds one export may take before it is abandoned (default 5000).',
    5000,
  ),
  OTEL_METRICS_EXPORTER: z
    .preprocess(unsetIfEmpty, z.enum(['none', 'otlp']).default('none'))
    .describe(
      '"otlp" also pushes OpenTelemetry metrics to the collector; /metrics (Prometheus) is always on.',
    ),
  OTEL_METRIC_EXPORT_INTERVAL: envPositiveInteger(
    'Milliseconds between OTLP metric pushes (default 60000).',
    60000,
  ),
  // OpenTelemetry JS 3 no longer reads these itself when the span processor is ours.
  OTEL_BSP_MAX_QUEUE_SIZE: envPositiveInteger(
    'Spans waiting for export at most; more are dropped, never queued without bound (default 2048).',
    2048,
  ),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: envPositiveInteger(
    'Spans in one export at most (default 512; at most OTEL_BSP_MAX_QUEUE_SIZE).',
    512,
  ),
  TELEMETRY_HOOK_SPANS: z
    .preprocess(unsetIfEmpty, booleanFromEnv.default(false))
    .describe(
      "Set to true to debug fastify's request lifecycle in traces: @fastify/otel adds a span per hook (onRequest, preHandler…), the route handler and fastify's request, under each request's server span. Off by default: a request is then one server span, ending with its last byte, plus the service's own spans (fastify's request span ends when the handler returns, before a stream is sent).",
    ),
  TELEMETRY_SHUTDOWN_TIMEOUT_MS: envPositiveInteger(
    'Upper bound in milliseconds on flushing telemetry at shutdown, so a dead collector never delays a stop (default 2000).',
    2000,
  ),
};

export const telemetryConfigSchema = z.object(telemetryConfigShape);
export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;

/** How log lines are written; `auto` picks by what stdout is (log-destination.ts). */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface ServiceDefaults {
  /** The service's name, e.g. `llmchat`; traces use `<name>-api`. */
  name: string;
  /** The port from the service's manifest. */
  port: number;
}

/**
 * The fields every service shares. Services extend it:
 * `baseConfigSchema({ name: 'llmchat', port: 2020 }).extend({ LLMCHAT_MODEL: … })`.
 */
export function baseConfigSchema(defaults: ServiceDefaults) {
  return z.object({
    SERVICE_NAME: z
      .preprocess(
        unsetIfEmpty,
        z
          .string()
          .regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes')
          .default(defaults.name),
      )
      .describe(`Name the service reports in logs, health and metrics (default ${defaults.name}).`),
    PORT: z
      .preprocess(
        unsetIfEmpty,
        z.coerce
          .number({ error: 'expected a port number' })
          .int({ error: 'expected a whole number' })
          .min(0, { error: 'expected a port from 1 to 65535 (0 picks a free port)' })
          .max(65535, { error: 'expected a port from 1 to 65535 (0 picks a free port)' })
          .default(defaults.port),
      )
      .describe(`TCP port to listen on (default ${defaults.port}; 0 picks a free one).`),
    HOST: z
      .preprocess(unsetIfEmpty, z.string().min(1).default('127.0.0.1'))
      .describe(
        'Address to bind (default 127.0.0.1, this host only; 0.0.0.0 for every interface — set API_KEYS then).',
      ),
    LOG_LEVEL: z
      .preprocess(
        unsetIfEmpty,
        z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      )
      .describe('Log level: fatal, error, warn, info, debug, trace or silent (default info).'),
    LOG_FORMAT: z
      .preprocess(unsetIfEmpty, z.enum(LOG_FORMATS).default('auto'))
      .describe(
        'Log line format: auto (default: readable lines on a terminal, JSON lines otherwise), pretty or json. Under systemd the journal always gets JSON.',
      ),
    API_KEYS: z
      .preprocess(unsetIfEmpty, commaSeparatedList.default([]))
      .describe(
        'Comma-separated API keys; when set, every route but /health and /live needs one (Authorization: Bearer <key> or X-Api-Key).',
      ),
    BODY_LIMIT_BYTES: envPositiveInteger(
      'Largest request body accepted, in bytes (default 4 MiB); larger gets 413.',
      4 * 1024 * 1024,
    ),
    MAX_HEADER_BYTES: envPositiveInteger(
      'Largest request header block accepted, in bytes (default 16 KiB); larger gets 431.',
      16 * 1024,
    ),
    REQUEST_TIMEOUT_MS: envPositiveInteger(
      'Milliseconds a client has to send its whole request, headers and body (default 30000); slower gets 408.',
      30000,
    ),
    MAX_CONNECTIONS: envPositiveInteger(
      'Open connections the service accepts at once (default 1024); more are refused, so idle sockets cannot exhaust file descriptors.',
      1024,
    ),
    STARTUP_TIMEOUT_MS: envPositiveInteger(
      "Under systemd, how long a start (a model download and load) may take: until then its start timeout is extended every 30 s while its status keeps changing (a status unchanged for 5 minutes is a hang, left to the unit's timeout) (default 1800000, 30 minutes).",
      1_800_000,
    ),
    DRAIN_TIMEOUT_MS: envPositiveInteger(
      'Milliseconds in-flight requests (streams included) get to finish after SIGTERM before they are cut (default 30000).',
      30000,
    ),
    ...telemetryConfigShape,
  });
}

export type BaseConfig = z.infer<ReturnType<typeof baseConfigSchema>>;

/** Raised when the environment does not satisfy a config schema; lists every problem. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The exit code for bad configuration (EX_CONFIG from sysexits.h); units can refuse to restart on it. */
export const CONFIG_ERROR_EXIT_CODE = 78;

type Environment = Record<string, string | undefined>;

/** Parses the environment with `schema`; throws a `ConfigError` naming every bad variable and how to fix it. */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Environment): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const shape = schema.shape as Record<string, z.ZodType>;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(environment)');
    const given = env[variable];
    const help = shape[variable]?.description;
    const shown = given === undefined ? 'unset' : JSON.stringify(given);
    return `${variable}=${shown}: ${issue.message}.${help ? ` ${help}` : ''}`;
  });
  throw new ConfigError(problems);
}

/**
 * For `main.ts`: parse the environment or print every problem to stderr and
 * exit with EX_CONFIG. A service never starts half-configured.
 */
export function loadConfigOrExit<S extends z.ZodObject>(
  schema: S,
  env: Environment = process.env,
): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `${error.message}\nFix the variables above (environment or the unit's EnvironmentFile) and start again.\n`,
    );
    process.exit(CONFIG_ERROR_EXIT_CODE);
  }
}
