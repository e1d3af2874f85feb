import { describe, expect, it } from 'vitest';
import { FOREVER, parseKeepAlive } from './keep-alive.js';

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

  it('negative means forever', () => {
    expect(parseKeepAlive(-1)).toBe(FOREVER);
    expect(parseKeepAlive('-1m')).toBe(FOREVER);
  });

  it('refuses anything else', () => {
    for (const bad of ['soon', '5 minutes', '', 'm5', null, {}, Number.NaN]) {
      expect(parseKeepAlive(bad)).toBeUndefined();
    }
  });
});
