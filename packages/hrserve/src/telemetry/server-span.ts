import { type Attributes, context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/** The span attribute carrying the request id (the `x-request-id` answered, `request_id` in logs). */
export const REQUEST_ID_ATTRIBUTE = 'request_id';
/** The span attribute carrying the catalogue code of an error answered (`code` in logs). */
export const ERROR_CODE_ATTRIBUTE = 'error_code';

/*
 * The HTTP instrumentation puts the server span of the request being served
 * in the context as "RPC metadata" (@opentelemetry/core). That is the one span
 * of a request, and the only way to reach it from inside fastify whichever span
 * is active (with TELEMETRY_HOOK_SPANS a hook's span is).
 */
function serverSpanMetadata() {
  const metadata = getRPCMetadata(context.active());
  return metadata?.type === RPCType.HTTP ? metadata : undefined;
}

/**
 * Names the route template (`/v1/models/:model`) that served the request. The
 * HTTP instrumentation reads it when the response has been sent, sets
 * `http.route` and renames the span `{method} {http.route}` as the HTTP
 * semantic conventions ask; a request no route matched keeps `{method}`.
 */
export function setServerSpanRoute(route: string): void {
  const metadata = serverSpanMetadata();
  if (metadata) metadata.route = route;
}

/** Adds attributes to the request's server span; nothing outside a traced request. */
export function setServerSpanAttributes(attributes: Attributes): void {
  serverSpanMetadata()?.span.setAttributes(attributes);
}
