import { describe, expect, it } from 'vitest';
import { effectiveDrain, parseTimespan, unitStopTimeoutMs } from './stop-timeout.js';

describe("the unit's stop timeout", () => {
  it('reads systemd time spans as systemctl prints them', () => {
    expect(parseTimespan('37s')).toBe(37_000);
    expect(parseTimespan('1min 30s')).toBe(90_000);
    expect(parseTimespan('1h 2min 500ms\n')).toBe(3_720_500);
    expect(parseTimespan('infinity')).toBe(Number.POSITIVE_INFINITY);
    expect(parseTimespan('')).toBeUndefined();
    expect(parseTimespan('soon')).toBeUndefined();
  });

  it('is asked of systemd only when systemd started the service', () => {
    const show = () => '37s\n';
    expect(unitStopTimeoutMs('llmchat', {}, show)).toBeUndefined();
    expect(unitStopTimeoutMs('llmchat', { INVOCATION_ID: 'abc' }, show)).toBe(37_000);
    const failing = () => {
      throw new Error('no user manager');
    };
    expect(unitStopTimeoutMs('llmchat', { INVOCATION_ID: 'abc' }, failing)).toBeUndefined();
  });

  it('clamps a drain that systemd would cut with SIGKILL, saying how to raise the timeout', () => {
    const config = {
      DRAIN_TIMEOUT_MS: 60_000,
      TELEMETRY_SHUTDOWN_TIMEOUT_MS: 5_000,
      SERVICE_NAME: 'llmchat',
    };
    expect(effectiveDrain(config, undefined)).toEqual({ drainMs: 60_000 });
    expect(effectiveDrain(config, Number.POSITIVE_INFINITY)).toEqual({ drainMs: 60_000 });
    expect(effectiveDrain(config, 90_000)).toEqual({ drainMs: 60_000 });
    const clamped = effectiveDrain(config, 37_000);
    expect(clamped.drainMs).toBe(30_000);
    expect(clamped.warning).toContain("outlasts the unit's TimeoutStopSec (37 s)");
    expect(clamped.warning).toContain('systemctl --user edit llmchat');
    expect(clamped.warning).toContain('TimeoutStopSec=67');
  });
});
