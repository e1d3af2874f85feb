import { describe, expect, it } from 'vitest';
import { Sessions } from './sessions.js';

describe('Sessions', () => {
  it('needs no login without API keys', () => {
    expect(new Sessions([], 1_000).required).toBe(false);
  });

  it('accepts only the configured keys, and a session only while it is used', () => {
    let now = 0;
    const sessions = new Sessions(['key-a', 'key-b'], 1_000, () => now);
    expect(sessions.keyIsValid('key-b')).toBe(true);
    expect(sessions.keyIsValid('key-')).toBe(false);
    const id = sessions.open();
    expect(id).toMatch(/^[\w-]{43}$/);
    now = 900;
    expect(sessions.touch(id)).toBe(true);
    // Used at 900: it lasts until 1900.
    now = 1_800;
    expect(sessions.touch(id)).toBe(true);
    now = 2_801;
    expect(sessions.touch(id)).toBe(false);
    expect(sessions.touch(id)).toBe(false);
    expect(sessions.touch(undefined)).toBe(false);
    expect(sessions.touch('made-up')).toBe(false);
  });

  it('ends a session at logout', () => {
    const sessions = new Sessions(['key'], 60_000);
    const id = sessions.open();
    sessions.close(id);
    expect(sessions.touch(id)).toBe(false);
    expect(sessions.size).toBe(0);
  });
});
