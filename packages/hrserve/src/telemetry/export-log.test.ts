import { describe, expect, it } from 'vitest';
import { EXPORT_SUMMARY_INTERVAL_MS, ExportLog } from './export-log.js';

describe('the log of span exports', () => {
  it('says nothing while exports work', () => {
    const log = new ExportLog('http://collector:4317', () => 0);
    expect(log.record(true, 10)).toBeUndefined();
  });

  it('logs the first failure at once, then a summary per interval, then the recovery', () => {
    let now = 1_000;
    const log = new ExportLog('http://collector:4317', () => now);
    const first = log.record(false, 5, '14 UNAVAILABLE: No connection established');
    expect(first?.level).toBe('warn');
    expect(first?.message).toContain(
      'telemetry export to http://collector:4317 failed: 14 UNAVAILABLE',
    );
    expect(first?.fields).toMatchObject({ failed_exports: 1, dropped_spans: 5 });
    // Failures within the interval: silent.
    for (let batch = 0; batch < 100; batch++) {
      now += 1_000;
      expect(log.record(false, 2, 'same')).toBeUndefined();
    }
    now = 1_000 + EXPORT_SUMMARY_INTERVAL_MS;
    const summary = log.record(false, 2, 'same');
    expect(summary?.message).toContain('still failing: same');
    expect(summary?.fields).toMatchObject({ failed_exports: 101, dropped_spans: 202 });
    now += 5_000;
    const recovered = log.record(true, 3);
    expect(recovered).toMatchObject({
      level: 'info',
      message: 'telemetry export to http://collector:4317 works again',
      fields: { failed_exports: 102, dropped_spans: 207 },
    });
    // And a later failure is news again.
    expect(log.record(false, 1, 'again')?.message).toContain('failed: again');
  });
});
