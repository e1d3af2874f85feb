import type { ReceivedSpan } from '@hrserve/otlp-receiver';

/** 2026-01-02T03:04:05.000Z in nanoseconds: every span below starts `at` ms after it. */
const EPOCH_NS = 1_767_323_045_000_000_000n;

/** A received span with defaults; `at` and `ms` are its start (from EPOCH_NS) and duration. */
export function fixtureSpan(
  fields: Partial<ReceivedSpan> & { spanId: string; name: string; at: number; ms: number },
): ReceivedSpan {
  const { at, ms, ...rest } = fields;
  const start = EPOCH_NS + BigInt(Math.round(at * 1e6));
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    parentSpanId: '',
    kind: 1,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + BigInt(Math.round(ms * 1e6))).toString(),
    durationMs: ms,
    status: { code: 0, message: '' },
    attributes: {},
    events: [],
    links: [],
    resource: { 'service.name': 'hello-api' },
    scope: 'test',
    ...rest,
  };
}

const upstream = { resource: { 'service.name': 'upstream-api' } };

/**
 * A request to hello's /v1/relay, which calls another service (upstream-api):
 * in the order a receiver gets them, children first, upstream's spans in a batch of their own.
 */
export const relayTraceBatches: ReceivedSpan[][] = [
  [
    fixtureSpan({
      ...upstream,
      spanId: 'c000000000000003',
      parentSpanId: 'b000000000000002',
      name: 'GET /v1/hello',
      kind: 2,
      at: 4.5,
      ms: 3.04,
      attributes: {
        'http.route': '/v1/hello',
        'http.response.status_code': 200,
        'http.request.method': 'GET',
        request_id: 'req-2',
      },
    }),
  ],
  [
    fixtureSpan({
      spanId: 'b000000000000002',
      parentSpanId: 'a000000000000001',
      name: 'GET',
      kind: 3,
      at: 2.2,
      ms: 7.9,
      attributes: {
        'url.full': 'http://127.0.0.1:2022/v1/hello?name=chain',
        'http.response.status_code': 200,
      },
    }),
    fixtureSpan({
      spanId: 'a000000000000001',
      parentSpanId: '9000000000000000',
      name: 'hello.relay',
      at: 2,
      ms: 8.1,
      attributes: { 'hello.upstream': 'http://127.0.0.1:2022' },
    }),
    fixtureSpan({
      spanId: '9000000000000000',
      name: 'GET /v1/relay',
      kind: 2,
      at: 0,
      ms: 12.34,
      attributes: {
        'http.route': '/v1/relay',
        'http.response.status_code': 200,
        request_id: 'req-1',
        client_job_id: 'job-42',
      },
    }),
  ],
];

/** A chat completion that failed: gen_ai attributes, an error status, and a span whose parent never came. */
export const failedChatTrace: ReceivedSpan[] = [
  fixtureSpan({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    resource: { 'service.name': 'llmchat-api' },
    spanId: 'd000000000000001',
    parentSpanId: '00f067aa0ba902b7',
    name: 'POST /v1/chat/completions',
    kind: 2,
    at: 0,
    ms: 1534.2,
    status: { code: 2, message: '' },
    attributes: {
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 500,
      error_code: 'internal_error',
    },
  }),
  fixtureSpan({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    resource: { 'service.name': 'llmchat-api' },
    spanId: 'd000000000000002',
    parentSpanId: 'd000000000000001',
    name: 'chat stories260K',
    at: 0.31,
    ms: 1533.5,
    status: { code: 2, message: '' },
    events: [
      {
        name: 'exception',
        timeUnixNano: '0',
        attributes: { 'exception.message': 'context lost' },
      },
    ],
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'stories260K',
      'gen_ai.response.finish_reasons': '["length"]',
      'llmchat.queue_wait_ms': 0.2,
    },
  }),
];
