/**
 * OTLP trace requests, as either encoding decodes them, turned into plain spans.
 *
 * Both encodings arrive here in one shape: protobufjs' `toObject` gives the
 * lowerCamelCase field names the OTLP/JSON mapping uses
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding). They differ
 * in three places, all handled below: ids are bytes in protobuf and hex strings
 * in JSON, 64-bit integers are strings (protobufjs, `longs: String`) or strings or
 * numbers (JSON), and `bytesValue` is bytes or base64.
 */

/** Attribute values as the receiver keeps them: arrays and maps become JSON text, bytes hex. */
export type AttributeValue = string | number | boolean;

/** A span as the receiver got it, ids in lowercase hex like `traceparent`. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** `''` for a root span. */
  parentSpanId: string;
  name: string;
  /** SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer, 0 unspecified. */
  kind: number;
  /** Nanoseconds since the Unix epoch, in decimal: too large for a number's integers. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** End minus start, in milliseconds (0 when the span carries no end). */
  durationMs: number;
  /** `code`: 0 unset, 1 ok, 2 error; `message` is the error's description, often `''`. */
  status: { code: number; message: string };
  attributes: Record<string, AttributeValue>;
  events: ReceivedEvent[];
  /** Spans this one is linked to (a batch line's span to its batch's), by their ids. */
  links: ReceivedLink[];
  /** The resource's attributes: `service.name`, `service.version`, … */
  resource: Record<string, AttributeValue>;
  /** The instrumentation scope's name, e.g. `@fastify/otel`. */
  scope: string;
}

export interface ReceivedLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, AttributeValue>;
}

export interface ReceivedEvent {
  name: string;
  timeUnixNano: string;
  attributes: Record<string, AttributeValue>;
}

/** A request that is not OTLP: the receiver answers 400 (HTTP) or INVALID_ARGUMENT (gRPC). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

type Wire = Record<string, unknown>;

function object(value: unknown, where: string): Wire {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new OtlpDecodeError(`${where} must be an object`);
  }
  return value as Wire;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${where} must be an array`);
  return value;
}

function text(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${where} must be a string`);
  return value;
}

/**
 * A 64-bit integer: a decimal string or a number in JSON, a string from protobufjs.
 * A number past 2^53 (a timestamp sent as a number) is taken as JSON.parse read it.
 */
function int64(value: unknown, where: string): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  if ((typeof value === 'string' && /^-?\d+$/.test(value)) || Number.isInteger(value)) {
    return BigInt(value as string | number);
  }
  throw new OtlpDecodeError(`${where} must be an integer (a number or a decimal string)`);
}

function int32(value: unknown, where: string): number {
  if (value === undefined || value === null) return 0;
  if (Number.isInteger(value)) return value as number;
  throw new OtlpDecodeError(`${where} must be an integer`);
}

/** Trace and span ids: bytes in protobuf, hex strings in OTLP/JSON (not base64 as in proto3 JSON). */
function id(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'string' && /^(?:[0-9a-fA-F]{2})*$/.test(value)) return value.toLowerCase();
  throw new OtlpDecodeError(`${where} must be a hex string (OTLP/JSON encodes ids in hex)`);
}

function anyValue(value: Wire, where: string): AttributeValue {
  if (value.stringValue !== undefined) return text(value.stringValue, where);
  if (value.boolValue !== undefined) return value.boolValue === true;
  // Integers past 2^53 lose precision here; attribute values that large are not ones anybody reads.
  if (value.intValue !== undefined) return Number(int64(value.intValue, where));
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) {
    const bytes = value.bytesValue;
    return bytes instanceof Uint8Array
      ? Buffer.from(bytes).toString('hex')
      : Buffer.from(text(bytes, where), 'base64').toString('hex');
  }
  if (value.arrayValue !== undefined || value.kvlistValue !== undefined) {
    return JSON.stringify(plain(value, where));
  }
  return '';
}

/** Arrays and maps as the JSON values they stand for, e.g. `["stop"]`. */
function plain(value: Wire, where: string): unknown {
  if (value.arrayValue !== undefined) {
    return list(object(value.arrayValue, where).values, where).map((item) =>
      plain(object(item, where), where),
    );
  }
  if (value.kvlistValue !== undefined) {
    return Object.fromEntries(
      list(object(value.kvlistValue, where).values, where).map((entry) => {
        const { key, value: inner } = object(entry, where);
        return [text(key, where), plain(object(inner, where), where)];
      }),
    );
  }
  return anyValue(value, where);
}

function attributes(value: unknown, where: string): Record<string, AttributeValue> {
  const record: Record<string, AttributeValue> = {};
  for (const entry of list(value, where)) {
    const { key, value: inner } = object(entry, where);
    const name = text(key, `${where} key`);
    record[name] = anyValue(object(inner, `${where} ${name}`), `${where} ${name}`);
  }
  return record;
}

function span(wire: Wire, resource: Record<string, AttributeValue>, scope: string): ReceivedSpan {
  const start = int64(wire.startTimeUnixNano, 'span startTimeUnixNano');
  const end = int64(wire.endTimeUnixNano, 'span endTimeUnixNano');
  const status = object(wire.status, 'span status');
  return {
    traceId: id(wire.traceId, 'span traceId'),
    spanId: id(wire.spanId, 'span spanId'),
    parentSpanId: id(wire.parentSpanId, 'span parentSpanId'),
    name: text(wire.name, 'span name'),
    kind: int32(wire.kind, 'span kind'),
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: end.toString(),
    durationMs: end > start ? Number(end - start) / 1e6 : 0,
    status: { code: int32(status.code, 'status code'), message: text(status.message, 'status') },
    attributes: attributes(wire.attributes, 'span attributes'),
    events: list(wire.events, 'span events').map((event) => {
      const fields = object(event, 'span event');
      return {
        name: text(fields.name, 'event name'),
        timeUnixNano: int64(fields.timeUnixNano, 'event timeUnixNano').toString(),
        attributes: attributes(fields.attributes, 'event attributes'),
      };
    }),
    links: list(wire.links, 'span links').map((link) => {
      const fields = object(link, 'span link');
      return {
        traceId: id(fields.traceId, 'link traceId'),
        spanId: id(fields.spanId, 'link spanId'),
        attributes: attributes(fields.attributes, 'link attributes'),
      };
    }),
    resource,
    scope,
  };
}

/** Every span of an ExportTraceServiceRequest, in the order they were sent. */
export function spansOfRequest(request: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of list(object(request, 'request').resourceSpans, 'resourceSpans')) {
    const { resource, scopeSpans } = object(resourceSpans, 'resourceSpans');
    const resourceAttributes = attributes(object(resource, 'resource').attributes, 'resource');
    for (const entry of list(scopeSpans, 'scopeSpans')) {
      const { scope, spans: wireSpans } = object(entry, 'scopeSpans');
      const scopeName = text(object(scope, 'scope').name, 'scope name');
      for (const wire of list(wireSpans, 'spans')) {
        spans.push(span(object(wire, 'span'), resourceAttributes, scopeName));
      }
    }
  }
  return spans;
}

/** How many metrics an ExportMetricsServiceRequest carries (their data points are not read). */
export function metricsOfRequest(request: unknown): number {
  let count = 0;
  for (const resourceMetrics of list(
    object(request, 'request').resourceMetrics,
    'resourceMetrics',
  )) {
    for (const scopeMetrics of list(
      object(resourceMetrics, 'resourceMetrics').scopeMetrics,
      'scopeMetrics',
    )) {
      count += list(object(scopeMetrics, 'scopeMetrics').metrics, 'metrics').length;
    }
  }
  return count;
}
