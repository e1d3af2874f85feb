/**
 * One trace as text for a terminal: a header line, then the tree of its spans,
 * one line each: name, duration, key attributes, an error in red. The service
 * is named where its part of the tree begins (the root, and each span whose
 * service differs from its parent's), so a trace across services reads as one
 * tree grouped by service.
 *
 *   trace 4bf92f3577b34da6a3ce929d0e0e4736  10:42:07.512  12.3 ms  4 spans  hello-api, upstream-api
 *   hello-api  GET /v1/relay  12.3 ms  http.route=/v1/relay http.response.status_code=200
 *   └─ hello.relay  8.1 ms
 *      └─ GET  7.9 ms  url.full=http://127.0.0.1:2022/v1/hello http.response.status_code=200
 *         └─ upstream-api  GET /v1/hello  3.0 ms  http.route=/v1/hello http.response.status_code=200
 */
import type { AttributeValue, ReceivedSpan } from '@hrserve/otlp-receiver';
import type { AssembledTrace, TraceOutcome } from './trace-assembler.js';
import { buildTraceTree, type SpanNode } from './trace-tree.js';

export interface RenderOptions {
  /** ANSI colours; only for a terminal. */
  color: boolean;
  /** IANA zone of the start time in the header. Defaults to the host's. */
  timeZone?: string;
}

/** Attributes shown, in this order, when a span has them; then every `gen_ai.*` one. */
const KEY_ATTRIBUTES = [
  'http.route',
  'url.full',
  'http.response.status_code',
  'http.status_code',
  'error_code',
  'request_id',
  'client_job_id',
];
const ERROR = 2;
/** OTLP SpanKind CLIENT: its `url.full` says where the call went. */
const CLIENT = 3;

const NOTES: Record<TraceOutcome, string> = {
  complete: '',
  'no-root': 'its root span never arrived',
  evicted: 'printed early: too many traces waiting',
  stopped: 'printed as it was at stop',
  late: 'late spans of a trace printed before',
};

type Paint = (text: string) => string;
function palette(color: boolean) {
  const sgr =
    (code: string): Paint =>
    (text) =>
      color ? `\x1b[${code}m${text}\x1b[0m` : text;
  return {
    header: sgr('1'),
    service: sgr('1;36'),
    duration: sgr('33'),
    attribute: sgr('2'),
    error: sgr('31'),
    tree: sgr('2'),
  };
}

export function formatDuration(ms: number): string {
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** As is (arrays arrive as JSON text: `["stop"]`), quoted only when it has spaces or is empty. */
function formatValue(value: AttributeValue): string {
  const text = String(value);
  return /\s/.test(text) || text === '' ? JSON.stringify(text) : text;
}

function serviceOf(span: ReceivedSpan): string {
  return String(span.resource['service.name'] ?? 'unknown service');
}

function keyAttributes(span: ReceivedSpan): string[] {
  const keys = KEY_ATTRIBUTES.filter(
    (key) => span.attributes[key] !== undefined && (key !== 'url.full' || span.kind === CLIENT),
  );
  keys.push(...Object.keys(span.attributes).filter((key) => key.startsWith('gen_ai.')));
  return keys.map((key) => `${key}=${formatValue(span.attributes[key] as AttributeValue)}`);
}

/** The error a span ended with: its status message, else its exception event's. */
function errorOf(span: ReceivedSpan): string | undefined {
  if (span.status.code !== ERROR) return undefined;
  const exception = span.events.find((event) => event.name === 'exception');
  const message = span.status.message || exception?.attributes['exception.message'];
  return message ? `error: ${message}` : 'error';
}

function headerOf(trace: AssembledTrace, roots: SpanNode[], options: RenderOptions): string {
  const { spans } = trace;
  // Nanoseconds are bigints, which Math.min and Math.max refuse.
  let first: bigint | undefined;
  let last = 0n;
  for (const span of spans) {
    const start = BigInt(span.startTimeUnixNano);
    const end = BigInt(span.endTimeUnixNano);
    if (first === undefined || start < first) first = start;
    if (end > last) last = end;
  }
  first ??= 0n;
  const at = new Date(Number(first / 1_000_000n));
  const clock = `${at.toLocaleTimeString('en-GB', { hour12: false, timeZone: options.timeZone })}.${String(at.getUTCMilliseconds()).padStart(3, '0')}`;
  // In the order the tree meets them: the caller's service first.
  const services: string[] = [];
  const collect = (node: SpanNode) => {
    services.push(serviceOf(node.span));
    node.children.forEach(collect);
  };
  roots.forEach(collect);
  const parts = [
    `trace ${trace.traceId}`,
    clock,
    formatDuration(last > first ? Number(last - first) / 1e6 : 0),
    `${spans.length} span${spans.length === 1 ? '' : 's'}`,
    [...new Set(services)].join(', '),
  ];
  const note = NOTES[trace.outcome];
  if (note) parts.push(`(${note})`);
  return parts.join('  ');
}

function spanLine(
  node: SpanNode,
  parentService: string | undefined,
  paint: ReturnType<typeof palette>,
) {
  const { span } = node;
  const service = serviceOf(span);
  const parts: string[] = [];
  if (service !== parentService) parts.push(paint.service(service));
  parts.push(span.name || '(unnamed)', paint.duration(formatDuration(span.durationMs)));
  const attributes = keyAttributes(span);
  if (attributes.length > 0) parts.push(paint.attribute(attributes.join(' ')));
  const error = errorOf(span);
  if (error) parts.push(paint.error(error));
  if (node.parentMissing) {
    parts.push(paint.attribute(`(parent ${span.parentSpanId} not received)`));
  }
  return parts.join('  ');
}

/** The trace as lines of text, each ending in a newline, with a blank line after. */
export function renderTrace(trace: AssembledTrace, options: RenderOptions): string {
  const paint = palette(options.color);
  const roots = buildTraceTree(trace.spans);
  const lines = [paint.header(headerOf(trace, roots, options))];
  const walk = (node: SpanNode, prefix: string, branch: string, parentService?: string) => {
    const indent = prefix + branch;
    lines.push(`${indent ? paint.tree(indent) : ''}${spanLine(node, parentService, paint)}`);
    const childPrefix = prefix + (branch === '├─ ' ? '│  ' : branch === '' ? '' : '   ');
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1;
      walk(child, childPrefix, last ? '└─ ' : '├─ ', serviceOf(node.span));
    });
  };
  for (const root of roots) walk(root, '', '');
  if (trace.droppedSpans > 0) {
    lines.push(paint.attribute(`… and ${trace.droppedSpans} more spans, not kept`));
  }
  return `${lines.join('\n')}\n\n`;
}
