import { describe, expect, it } from 'vitest';
import { BoundedCache } from './grammar-cache.js';

describe('BoundedCache', () => {
  it('evicts the least recently used past the entry bound', () => {
    const cache = new BoundedCache<string>(2, 1000);
    cache.set('a', 'A', 1);
    cache.set('b', 'B', 1);
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C', 1);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size, cache.bytes]).toEqual(['A', 'C', 2, 2]);
  });

  it('evicts until the byte bound holds, and keeps nothing larger than it', () => {
    const cache = new BoundedCache<string>(100, 10);
    cache.set('a', 'A', 4);
    cache.set('b', 'B', 4);
    cache.set('c', 'C', 4);
    expect([cache.get('a'), cache.size, cache.bytes]).toEqual([undefined, 2, 8]);
    cache.set('huge', 'H', 11);
    expect([cache.get('huge'), cache.size, cache.bytes]).toEqual([undefined, 2, 8]);
  });

  it('accounts a resized or deleted value', () => {
    const cache = new BoundedCache<string>(100, 10);
    cache.set('a', 'A', 1);
    cache.set('b', 'B', 1);
    cache.resize('b', 9);
    expect([cache.size, cache.bytes]).toEqual([2, 10]);
    cache.resize('a', 5); // a grows: b, the older now, goes
    expect([cache.get('b'), cache.get('a'), cache.bytes]).toEqual([undefined, 'A', 5]);
    cache.delete('a');
    cache.delete('missing');
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });
});
