import { describe, expect, it } from 'vitest';
import { OldestKeys } from './oldest-keys.js';

describe('OldestKeys', () => {
  it('yields the oldest key as keys are evicted, moved to the end, deleted or cleared', () => {
    const map = new Map<string, number>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const oldest = new OldestKeys(map);
    expect(oldest.next()).toBe('a');
    map.delete('a');
    // b moves to the most recent end: c is now the oldest.
    map.delete('b');
    map.set('b', 2);
    expect(oldest.next()).toBe('c');
    map.delete('c');
    expect(oldest.next()).toBe('b');
    map.delete('b');
    expect(oldest.next()).toBeUndefined();
    map.set('d', 4);
    expect(oldest.next()).toBe('d');
    map.clear();
    map.set('e', 5);
    expect(oldest.next()).toBe('e');
  });

  it('stays right across the re-hashing of a large map', () => {
    const map = new Map<number, number>();
    const oldest = new OldestKeys(map);
    for (let i = 0; i < 5000; i++) map.set(i, i);
    for (let i = 5000; i < 50_000; i++) {
      map.set(i, i);
      const evicted = oldest.next();
      expect(evicted).toBe(i - 5000);
      map.delete(evicted as number);
    }
    expect(map.size).toBe(5000);
  });
});
