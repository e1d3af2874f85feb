import { describe, expect, it } from 'vitest';
import { fixtureSpan } from './__fixtures__/relay-trace.js';
import { buildTraceTree, type SpanNode } from './trace-tree.js';

const names = (nodes: SpanNode[]): unknown[] =>
  nodes.map((node) =>
    node.children.length > 0 ? [node.span.name, names(node.children)] : node.span.name,
  );

describe('the tree of a trace', () => {
  it('puts children under parents in start order, orphans as roots', () => {
    const roots = buildTraceTree([
      fixtureSpan({ spanId: 'b2', parentSpanId: 'a1', name: 'second', at: 5, ms: 1 }),
      fixtureSpan({ spanId: 'b1', parentSpanId: 'a1', name: 'first', at: 1, ms: 1 }),
      fixtureSpan({ spanId: 'a1', name: 'root', at: 0, ms: 10 }),
      fixtureSpan({ spanId: 'c1', parentSpanId: 'ff', name: 'orphan', at: 2, ms: 1 }),
    ]);
    expect(names(roots)).toEqual([['root', ['first', 'second']], 'orphan']);
    expect(roots.map((root) => root.parentMissing)).toEqual([false, true]);
  });

  it('shows every span once: a span sent twice, its own parent, a parent cycle', () => {
    const root = fixtureSpan({ spanId: 'a1', name: 'root', at: 0, ms: 10 });
    const roots = buildTraceTree([
      root,
      root,
      fixtureSpan({ spanId: 's1', parentSpanId: 's1', name: 'self', at: 1, ms: 1 }),
      fixtureSpan({ spanId: 'x1', parentSpanId: 'y1', name: 'x', at: 2, ms: 1 }),
      fixtureSpan({ spanId: 'y1', parentSpanId: 'x1', name: 'y', at: 3, ms: 1 }),
    ]);
    expect(names(roots)).toEqual(['root', 'self', ['x', ['y']]]);
  });
});
