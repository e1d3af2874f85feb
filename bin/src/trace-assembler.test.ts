import type { ReceivedSpan } from '@hrserve/otlp-receiver';
import { describe, expect, it } from 'vitest';
import { fixtureSpan, relayTraceBatches } from './__fixtures__/relay-trace.js';
import {
  type AssembledTrace,
  DEFAULT_ASSEMBLER_OPTIONS,
  TraceAssembler,
  type TraceAssemblerOptions,
} from './trace-assembler.js';

function assembler(options: Partial<TraceAssemblerOptions> = {}) {
  const printed: AssembledTrace[] = [];
  const traces = new TraceAssembler((trace) => printed.push(trace), {
    ...DEFAULT_ASSEMBLER_OPTIONS,
    quietMs: 100,
    orphanMs: 1_000,
    ...options,
  });
  return { traces, printed };
}

const inTrace = (traceId: string, spanId: string, extra: Partial<ReceivedSpan> = {}) =>
  fixtureSpan({ traceId, spanId, name: spanId, at: 0, ms: 1, ...extra });

describe('gathering spans into traces', () => {
  it('waits for the root and a quiet period, across batches and services', () => {
    const { traces, printed } = assembler();
    const [upstream = [], front = []] = relayTraceBatches;
    // upstream's server span continues a remote caller: a root, but more may come.
    traces.add(upstream, 0);
    traces.tick(50);
    traces.add(front, 60);
    traces.tick(150);
    expect(printed).toEqual([]);
    traces.tick(160);
    expect(printed.map((trace) => [trace.outcome, trace.spans.length])).toEqual([['complete', 4]]);
    expect(traces.pendingCount).toBe(0);
  });

  it('prints spans arriving after their trace was printed as late ones', () => {
    const { traces, printed } = assembler();
    traces.add([inTrace('t1', 'root')], 0);
    traces.tick(100);
    traces.add([inTrace('t1', 'straggler', { parentSpanId: 'root' })], 200);
    expect(printed.map((trace) => [trace.outcome, trace.spans.map((span) => span.name)])).toEqual([
      ['complete', ['root']],
      ['late', ['straggler']],
    ]);
  });

  it('prints a trace whose root never comes after orphanMs', () => {
    const { traces, printed } = assembler();
    traces.add([inTrace('t1', 'child', { parentSpanId: 'never' })], 0);
    traces.tick(999);
    expect(printed).toEqual([]);
    traces.tick(1_000);
    expect(printed[0]?.outcome).toBe('no-root');
  });

  it('is bounded: the oldest waiting trace is printed early, spans past the cap counted', () => {
    const { traces, printed } = assembler({ maxPending: 2, maxSpansPerTrace: 2 });
    traces.add(
      ['a', 'b', 'c'].map((id) => inTrace('t1', id, { parentSpanId: 'x' })),
      0,
    );
    traces.add([inTrace('t2', 'a', { parentSpanId: 'x' })], 1);
    traces.add([inTrace('t3', 'a', { parentSpanId: 'x' })], 2);
    expect(printed).toMatchObject([{ traceId: 't1', outcome: 'evicted', droppedSpans: 1 }]);
    expect(printed[0]?.spans).toHaveLength(2);
    expect(traces.pendingCount).toBe(2);
    traces.flushAll();
    expect(printed.map((trace) => [trace.traceId, trace.outcome])).toEqual([
      ['t1', 'evicted'],
      ['t2', 'stopped'],
      ['t3', 'stopped'],
    ]);
  });

  it('forgets the oldest printed ids past maxRemembered', () => {
    const { traces, printed } = assembler({ maxRemembered: 1 });
    traces.add([inTrace('t1', 'root')], 0);
    traces.add([inTrace('t2', 'root')], 0);
    traces.tick(100);
    // t1 is forgotten: a span of it now starts a new trace instead of a late one.
    traces.add([inTrace('t1', 'again')], 200);
    traces.add([inTrace('t2', 'again')], 200);
    expect(printed.map((trace) => [trace.traceId, trace.outcome])).toEqual([
      ['t1', 'complete'],
      ['t2', 'complete'],
      ['t2', 'late'],
    ]);
    expect(traces.pendingCount).toBe(1);
  });
});
