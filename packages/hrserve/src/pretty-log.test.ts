import { describe, expect, it } from 'vitest';
import { prettyLogLine } from './pretty-log.js';

const pretty = prettyLogLine({ colorize: false });

describe('prettyLogLine', () => {
  it('shows time, level, message and the fields that matter on one line', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      pid: 12,
      hostname: 'h',
      service: 'hello',
      version: '0.1.0',
      request_id: 'r-1',
      msg: 'slow client',
    });
    const text = pretty(`${line}\n`);
    expect(text).toMatch(/^\[\d\d:04:05\.678\] WARN: slow client \{"request_id":"r-1"\}\n$/);
    // One service per terminal or unit: these would repeat on every line.
    for (const noise of ['pid', 'hostname', 'service', 'version'])
      expect(text).not.toContain(noise);
  });

  it('passes a line that is not a JSON object through as it was', () => {
    expect(pretty('Invalid configuration:\n')).toBe('Invalid configuration:\n');
    expect(pretty('    at main (file.js:1:1)')).toBe('    at main (file.js:1:1)\n');
    expect(pretty('[1,2]\n')).toBe('[1,2]\n');
  });

  it('shows an error with its stack', () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' },
      msg: 'shutdown failed',
    });
    const text = pretty(line);
    expect(text).toContain('ERROR: shutdown failed');
    expect(text).toContain('Error: boom');
    expect(text).toContain('at x (y.js:1:1)');
  });
});
