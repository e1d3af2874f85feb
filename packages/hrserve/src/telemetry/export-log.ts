/** What the log should say about span exports: a level, a message, and fields. */
export interface ExportLogEntry {
  level: 'warn' | 'info';
  message: string;
  fields: Record<string, unknown>;
}

/** While exports fail, one summary line per this many ms (the first failure is logged at once). */
export const EXPORT_SUMMARY_INTERVAL_MS = 5 * 60_000;

/**
 * Turns export outcomes into a few log lines: the first failure at once, then
 * while failing a summary at most every EXPORT_SUMMARY_INTERVAL_MS, and one
 * line when exports work again. A dead collector is thus in the log (not only
 * in /health) without a line per batch.
 */
export class ExportLog {
  private failingSince: number | undefined;
  private lastLineAt = 0;
  private failed = 0;
  private dropped = 0;
  private failedSinceLine = 0;
  private droppedSinceLine = 0;

  constructor(
    private readonly endpoint: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** One export's outcome; returns the line to log, if any. */
  record(ok: boolean, spans: number, error?: string): ExportLogEntry | undefined {
    const now = this.now();
    if (ok) {
      if (this.failingSince === undefined) return undefined;
      const entry: ExportLogEntry = {
        level: 'info',
        message: `telemetry export to ${this.endpoint} works again`,
        fields: {
          failed_exports: this.failed,
          dropped_spans: this.dropped,
          failing_for_s: Math.round((now - this.failingSince) / 1000),
        },
      };
      this.failingSince = undefined;
      this.failed = this.dropped = this.failedSinceLine = this.droppedSinceLine = 0;
      return entry;
    }
    this.failed += 1;
    this.dropped += spans;
    this.failedSinceLine += 1;
    this.droppedSinceLine += spans;
    if (this.failingSince === undefined) {
      this.failingSince = now;
      return this.line(
        now,
        `telemetry export to ${this.endpoint} failed: ${error ?? 'unknown error'}; spans are dropped until it works (a summary every ${EXPORT_SUMMARY_INTERVAL_MS / 60_000} min while it fails; /health shows the last export)`,
        { error },
      );
    }
    if (now - this.lastLineAt < EXPORT_SUMMARY_INTERVAL_MS) return undefined;
    return this.line(
      now,
      `telemetry export to ${this.endpoint} still failing: ${error ?? 'unknown error'}`,
      { error, failing_for_s: Math.round((now - this.failingSince) / 1000) },
    );
  }

  private line(now: number, message: string, fields: Record<string, unknown>): ExportLogEntry {
    const entry: ExportLogEntry = {
      level: 'warn',
      message,
      fields: {
        ...fields,
        failed_exports: this.failedSinceLine,
        dropped_spans: this.droppedSinceLine,
      },
    };
    this.lastLineAt = now;
    this.failedSinceLine = this.droppedSinceLine = 0;
    return entry;
  }
}
