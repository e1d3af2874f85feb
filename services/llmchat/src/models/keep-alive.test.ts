import { describe, expect, it } from 'vitest';
import { expiresAt, FOREVER, parseKeepAlive } from './keep-alive.js';

describe('keep_alive', () => {
  it('reads Ollama durations and numbers of seconds', () => {
    expect(parseKeepAlive('5m')).toBe(300_000);
    expect(parseKeepAlive('1h30m')).toBe(5_400_000);
    expect(parseKeepAlive('250ms')).toBe(250);
    expect(parseKeepAlive(30)).toBe(30_000);
    expect(parseKeepAlive('30')).toBe(30_000);
    expect(parseKeepAlive(0)).toBe(0);
    expect(parseKeepAlive('0')).toBe(0);
  });

  it('takes every duration at its word: zero, long ones, huge ones', () => {
    expect(parseKeepAlive('0s')).toBe(0);
    expect(parseKeepAlive(2 ** 31 / 1000)).toBe(2 ** 31);
    expect(parseKeepAlive('1000h')).toBe(3_600_000_000);
    // More seconds than ms can count: forever.
    expect(parseKeepAlive(1e306)).toBe(FOREVER);
    expect(parseKeepAlive(`${'9'.repeat(400)}h`)).toBe(FOREVER);
  });

  it('negative means forever', () => {
    expect(parseKeepAlive(-1)).toBe(FOREVER);
    expect(parseKeepAlive('-1m')).toBe(FOREVER);
  });

  it('refuses anything else', () => {
    for (const bad of ['soon', '5 minutes', '', 'm5', null, {}, Number.NaN]) {
      expect(parseKeepAlive(bad)).toBeUndefined();
    }
  });

  it('shows expiries past the last writable date as forever (2318), as Ollama does', () => {
    const now = Date.UTC(2026, 10, 30);
    expect(expiresAt(now, 3_600_000)).toBe('2026-11-30T01:00:00.000Z');
    expect(expiresAt(now, FOREVER)).toBe('2318-01-01T00:00:00.000Z');
    // 1e13 seconds used to throw a RangeError in /api/ps.
    expect(expiresAt(now, parseKeepAlive(1e13) ?? 0)).toBe('2318-01-01T00:00:00.000Z');
  });
});
