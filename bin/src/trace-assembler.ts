/**
 * Gathers spans into traces for `just traces`. Spans come in any order and in
 * many exports (each service exports its own, children usually before their
 * parents, since a span is exported once it ends), so a trace is printed only
 * when it looks finished: its root has arrived and nothing more came for a quiet
 * period. Memory is bounded: traces waiting, spans per trace and the ids of
 * traces already printed (to tell a late span from a new trace) are all capped.
 */
import type { ReceivedSpan } from '@hrserve/otlp-receiver';

/** Why a trace is printed now. */
export type TraceOutcome =
  /** Its root arrived and nothing more for `quietMs`. */
  | 'complete'
  /** No root arrived, and nothing at all for `orphanMs`. */
  | 'no-root'
  /** Printed early: `maxPending` traces were waiting. */
  | 'evicted'
  /** Printed as it was when the receiver stopped. */
  | 'stopped'
  /** Spans of a trace printed before. */
  | 'late';

export interface AssembledTrace {
  traceId: string;
  spans: ReceivedSpan[];
  outcome: TraceOutcome;
  /** Spans received past `maxSpansPerTrace`, counted but not kept. */
  droppedSpans: number;
}

export interface TraceAssemblerOptions {
  /** Milliseconds without a new span, once the root is in, before a trace is printed. */
  quietMs: number;
  /** Milliseconds without a new span before a trace whose root never came is printed anyway. */
  orphanMs: number;
  /** Traces waiting at most; one more prints the oldest as it is. */
  maxPending: number;
  /** Spans kept per trace at most; more are counted. */
  maxSpansPerTrace: number;
  /** Ids of printed traces remembered at most, to print their late spans as such. */
  maxRemembered: number;
}

export const DEFAULT_ASSEMBLER_OPTIONS: TraceAssemblerOptions = {
  // Services export every second (BatchSpanProcessor's delay, telemetry/setup.ts): the
  // spans of a trace's other services are in within about a second of its root's.
  quietMs: 2_000,
  orphanMs: 10_000,
  maxPending: 1_000,
  maxSpansPerTrace: 1_000,
  maxRemembered: 10_000,
};

interface PendingTrace {
  spans: ReceivedSpan[];
  droppedSpans: number;
  lastSpanAt: number;
  rooted: boolean;
}

/**
 * A root: a span with no parent, or a server or consumer span continuing a
 * caller's trace (its parent is the caller's, which this receiver may never see).
 */
function isRoot(span: ReceivedSpan): boolean {
  return span.parentSpanId === '' || span.kind === 2 || span.kind === 5;
}

export class TraceAssembler {
  /** In arrival order of each trace's first span: the first entry is the oldest. */
  private readonly pending = new Map<string, PendingTrace>();
  /** Printed trace ids, oldest first. */
  private readonly printed = new Set<string>();

  constructor(
    private readonly emit: (trace: AssembledTrace) => void,
    private readonly options: TraceAssemblerOptions = DEFAULT_ASSEMBLER_OPTIONS,
  ) {}

  /** Traces waiting to be printed. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Takes the spans of one export, received at `now` (ms). */
  add(spans: readonly ReceivedSpan[], now: number): void {
    const late = new Map<string, ReceivedSpan[]>();
    for (const span of spans) {
      if (this.printed.has(span.traceId)) {
        late.set(span.traceId, [...(late.get(span.traceId) ?? []), span]);
        continue;
      }
      let trace = this.pending.get(span.traceId);
      if (!trace) {
        if (this.pending.size >= this.options.maxPending) this.evictOldest();
        trace = { spans: [], droppedSpans: 0, lastSpanAt: now, rooted: false };
        this.pending.set(span.traceId, trace);
      }
      trace.lastSpanAt = now;
      trace.rooted ||= isRoot(span);
      if (trace.spans.length < this.options.maxSpansPerTrace) trace.spans.push(span);
      else trace.droppedSpans += 1;
    }
    for (const [traceId, lateSpans] of late) {
      const kept = lateSpans.slice(0, this.options.maxSpansPerTrace);
      this.emit({
        traceId,
        spans: kept,
        outcome: 'late',
        droppedSpans: lateSpans.length - kept.length,
      });
    }
  }

  /** Prints every trace that is due at `now` (ms); called on a timer. */
  tick(now: number): void {
    for (const [traceId, trace] of this.pending) {
      const quiet = now - trace.lastSpanAt;
      if (trace.rooted && quiet >= this.options.quietMs) this.finish(traceId, trace, 'complete');
      else if (quiet >= this.options.orphanMs) this.finish(traceId, trace, 'no-root');
    }
  }

  /** Prints every trace still waiting, as it is (the receiver is stopping). */
  flushAll(): void {
    for (const [traceId, trace] of this.pending) this.finish(traceId, trace, 'stopped');
  }

  private evictOldest(): void {
    const oldest = this.pending.entries().next();
    if (!oldest.done) this.finish(oldest.value[0], oldest.value[1], 'evicted');
  }

  private finish(traceId: string, trace: PendingTrace, outcome: TraceOutcome): void {
    this.pending.delete(traceId);
    this.printed.add(traceId);
    if (this.printed.size > this.options.maxRemembered) {
      const oldest = this.printed.values().next();
      if (!oldest.done) this.printed.delete(oldest.value);
    }
    this.emit({ traceId, spans: trace.spans, outcome, droppedSpans: trace.droppedSpans });
  }
}
