import type { JsonObject } from '@hrserve/store';
import {
  type Attributes,
  context,
  type Link,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  batchWorkHeaders,
  CLIENT_JOB_ID_ATTRIBUTE,
  errorCatalogue,
  type FastifyInstance,
} from 'hrserve';
import { newId } from './ids.js';

/** A batch line as its job carries it. */
export interface LinePayload {
  batch_id: string;
  /** The batch's endpoint, which every line posts to. */
  url: string;
  custom_id: string;
  /** 1-based line of the input file. */
  line: number;
  body: JsonObject;
  /** The batch span's traceparent, linked from the line's span. */
  trace_parent: string | null;
}

/** A line of a batch's output or error file (openai's BatchRequestOutput). */
export interface LineOutput {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

export interface LineAnswer {
  output: LineOutput;
  /** Set when the service is too busy now: run it again after this many milliseconds. */
  retryAfterMs?: number;
  /** The line gave its resources to interactive work (a 503 `preempted`): always run again. */
  preempted?: boolean;
}

/** Statuses that mean "not now", not "this request is wrong". */
const RETRYABLE = new Set([429, 503]);

/**
 * Runs a batch line through the service's own route (`app.inject`): the body is parsed,
 * validated, generated and answered exactly as a client's request would be, at batch
 * priority (the process's batch-work token, which also stands for the API key the batch was
 * created with), with the batch's id as its client_job_id and the output
 * line's id as its request id. The line's span links to the batch's span.
 */
export async function executeLine(
  app: FastifyInstance,
  tracer: Tracer,
  payload: LinePayload,
  options: { signal: AbortSignal },
): Promise<LineAnswer> {
  const requestId = newId('batch_req_');
  const link = linkTo(payload.trace_parent);
  const attributes: Attributes = {
    'batch.id': payload.batch_id,
    'batch.custom_id': payload.custom_id,
    'batch.line': payload.line,
    [CLIENT_JOB_ID_ATTRIBUTE]: payload.batch_id,
    'http.request.method': 'POST',
    'url.path': payload.url,
  };
  const span = tracer.startSpan(`batch line ${payload.url}`, {
    kind: SpanKind.INTERNAL,
    attributes,
    ...(link ? { links: [link] } : {}),
  });
  const active = trace.setSpan(context.active(), span);
  try {
    const headers: Record<string, string> = {
      ...batchWorkHeaders(),
      'content-type': 'application/json',
      'x-request-id': requestId,
      'x-client-job-id': payload.batch_id,
    };
    // The route's server span is the line span's child.
    propagation.inject(active, headers);
    const response = await context.with(active, () =>
      app.inject({
        method: 'POST',
        url: payload.url,
        headers,
        payload: JSON.stringify(payload.body),
        signal: options.signal,
      }),
    );
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    let body: unknown;
    try {
      body = response.json();
    } catch {
      body = { text: response.body };
    }
    const output: LineOutput = {
      id: requestId,
      custom_id: payload.custom_id,
      response: {
        status_code: response.statusCode,
        request_id: String(response.headers['x-request-id'] ?? requestId),
        body,
      },
      error: null,
    };
    if (RETRYABLE.has(response.statusCode)) {
      const seconds = Number(response.headers['retry-after'] ?? Number.NaN);
      const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
      return {
        output,
        retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000,
        preempted: code === errorCatalogue.preempted.code,
      };
    }
    return { output };
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/** A line that could not run at all (not an HTTP answer): its error-file entry. */
export function lineFailure(payload: LinePayload, code: string, message: string): LineOutput {
  return {
    id: newId('batch_req_'),
    custom_id: payload.custom_id,
    response: null,
    error: { code, message },
  };
}

/** A span's context as a W3C traceparent, or null for a span that is not recorded. */
export function traceParentOf(span: Span): string | null {
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return null;
  const flags = spanContext.traceFlags.toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

export function linkTo(traceParent: string | null): Link | undefined {
  const match = traceParent && /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceParent);
  if (!match) return undefined;
  return {
    context: {
      traceId: match[1] ?? '',
      spanId: match[2] ?? '',
      traceFlags: Number.parseInt(match[3] ?? '0', 16) & TraceFlags.SAMPLED,
      isRemote: true,
    },
  };
}
