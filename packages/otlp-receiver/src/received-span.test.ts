import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricsOfRequest, OtlpDecodeError, spansOfRequest } from './received-span.js';

/** An OTLP/JSON request as the spec's example writes one, with every kind of value. */
const request = JSON.parse(
  readFileSync(new URL('./__fixtures__/trace-request.json', import.meta.url), 'utf8'),
);

describe('spans of an OTLP/JSON request', () => {
  it('reads ids in hex (any case), int64 as strings or numbers, enums as integers', () => {
    const [server, root] = spansOfRequest(request);
    expect(server).toEqual({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      name: "I'm a server span",
      kind: 2,
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: '1544712661000000000',
      durationMs: 1000,
      status: { code: 2, message: 'boom' },
      attributes: {
        'my.span.attr': 'some value',
        'http.response.status_code': 500,
        ratio: 0.25,
        cached: false,
        'gen_ai.response.finish_reasons': '["stop"]',
        labels: '{"a":1}',
        digest: 'deadbeef',
        empty: '',
      },
      events: [
        {
          name: 'exception',
          timeUnixNano: '1544712660500000000',
          attributes: { 'exception.message': 'boom' },
        },
      ],
      links: [],
      resource: { 'service.name': 'my.service', 'service.instance.count': 3 },
      scope: 'my.library',
    });
    expect(root).toMatchObject({
      parentSpanId: '',
      kind: 0,
      startTimeUnixNano: '0',
      durationMs: 0,
      status: { code: 0, message: '' },
      attributes: {},
      events: [],
    });
  });

  it('reads the spans a span links to', () => {
    const [span] = spansOfRequest({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'aa',
                  spanId: 'bb',
                  links: [
                    {
                      traceId: 'cc',
                      spanId: 'dd',
                      attributes: [{ key: 'why', value: { stringValue: 'batch' } }],
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(span?.links).toEqual([{ traceId: 'cc', spanId: 'dd', attributes: { why: 'batch' } }]);
  });

  it('takes ids as bytes too, as protobuf gives them', () => {
    const [span] = spansOfRequest({
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ traceId: Buffer.from('0102', 'hex'), spanId: new Uint8Array([255]) }] },
          ],
        },
      ],
    });
    expect(span).toMatchObject({ traceId: '0102', spanId: 'ff', resource: {}, scope: '' });
  });

  it('refuses what is not OTLP, saying which field', () => {
    const withSpan = (span: object) => ({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
    expect(() => spansOfRequest({ resourceSpans: {} })).toThrow(
      new OtlpDecodeError('resourceSpans must be an array'),
    );
    // proto3's JSON would write ids in base64; OTLP/JSON writes them in hex.
    expect(() => spansOfRequest(withSpan({ traceId: 'W47/95gDgQPSabYzgT/GDA==' }))).toThrow(
      /span traceId must be a hex string/,
    );
    expect(() => spansOfRequest(withSpan({ startTimeUnixNano: '12.5' }))).toThrow(
      /startTimeUnixNano must be an integer/,
    );
    expect(() => spansOfRequest(withSpan({ kind: 'SPAN_KIND_SERVER' }))).toThrow(
      /span kind must be an integer/,
    );
    expect(() => spansOfRequest([])).toThrow(/request must be an object/);
  });

  it('counts the metrics of a metrics request', () => {
    expect(
      metricsOfRequest({
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ name: 'a' }, { name: 'b' }] }, { metrics: [] }] },
          {},
        ],
      }),
    ).toBe(2);
  });
});
