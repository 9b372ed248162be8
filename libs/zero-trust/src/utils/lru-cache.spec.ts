import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new LruCache<string, number>(2, 1000, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.size).toBe(2);
  });

  it('keeps what is read while newer entries push older ones out', () => {
    const cache = new LruCache<number, number>(100, 60_000, () => 0);
    for (let i = 0; i < 100; i++) cache.set(i, i);
    // Key 0 is read between insertions: however many new keys arrive, it stays.
    for (let i = 100; i < 1000; i++) {
      expect(cache.get(0)).toBe(0);
      cache.set(i, i);
    }
    expect(cache.size).toBe(100);
    expect(cache.get(0)).toBe(0);
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(999)).toBe(999);
  });

  it('expires entries after their time to live', () => {
    let now = 0;
    const cache = new LruCache<string, number>(10, 1000, () => now);
    cache.set('a', 1);
    cache.set('b', 2, 5000);
    now = 1000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
  });

  it('stores nothing when disabled or with a non-positive ttl', () => {
    const off = new LruCache<string, number>(0, 1000);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
    const cache = new LruCache<string, number>(10, 1000);
    cache.set('b', 2, -1);
    expect(cache.get('b')).toBeUndefined();
  });
});
