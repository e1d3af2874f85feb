/**
 * The spans of one trace as a tree: each span under its parent, siblings in
 * start order. A span whose parent is not among them (a caller outside, or a
 * parent not received yet) is a root of its own.
 */
import type { ReceivedSpan } from '@hrserve/otlp-receiver';

export interface SpanNode {
  span: ReceivedSpan;
  children: SpanNode[];
  /** The span's parent is named but not in the trace. */
  parentMissing: boolean;
}

function byStart(a: SpanNode, b: SpanNode): number {
  const difference = BigInt(a.span.startTimeUnixNano) - BigInt(b.span.startTimeUnixNano);
  if (difference !== 0n) return difference < 0n ? -1 : 1;
  return a.span.name.localeCompare(b.span.name);
}

/** The roots of the trace's tree, in start order. Every span appears once, whatever its ids. */
export function buildTraceTree(spans: readonly ReceivedSpan[]): SpanNode[] {
  const nodes = new Map<string, SpanNode>();
  for (const span of spans) {
    // A span id sent twice (a retried export) is shown once.
    if (!nodes.has(span.spanId)) {
      nodes.set(span.spanId, { span, children: [], parentMissing: false });
    }
  }
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === '' ? undefined : nodes.get(node.span.parentSpanId);
    if (parent && parent !== node) parent.children.push(node);
    else {
      node.parentMissing = node.span.parentSpanId !== '' && !parent;
      roots.push(node);
    }
  }
  // Spans in a parent cycle (malformed ids) are reachable from no root: each cycle gets one.
  const reached = new Set<SpanNode>();
  const visit = (start: SpanNode) => {
    const stack = [start];
    while (stack.length > 0) {
      const node = stack.pop() as SpanNode;
      if (reached.has(node)) continue;
      reached.add(node);
      stack.push(...node.children);
    }
  };
  for (const root of roots) visit(root);
  for (const node of nodes.values()) {
    if (reached.has(node)) continue;
    const parent = nodes.get(node.span.parentSpanId);
    if (parent) parent.children = parent.children.filter((child) => child !== node);
    roots.push(node);
    visit(node);
  }
  const sort = (list: SpanNode[]) => {
    list.sort(byStart);
    for (const node of list) sort(node.children);
  };
  sort(roots);
  return roots;
}
