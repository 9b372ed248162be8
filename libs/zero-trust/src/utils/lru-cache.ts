import { LRUCache } from 'lru-cache';

/**
 * A bounded LRU map (`lru-cache`) whose entries also expire, on an injectable clock. The expiry
 * is checked here rather than by `lru-cache`'s own `ttl`, which reads `performance.now()` and
 * takes a start time of 0 for "no expiry": tests pin clocks at 0.
 *
 * @internal
 */
export class LruCache<K extends {}, V> {
  private readonly entries: LRUCache<K, { value: V; expires: number }> | undefined;

  /** @param max - entries held at once; 0 disables the cache */
  constructor(
    max: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (max > 0) this.entries = new LRUCache({ max });
  }

  /** Number of entries held (expired ones not yet dropped included). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  get(key: K): V | undefined {
    const entry = this.entries?.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires > this.now()) return entry.value;
    this.entries?.delete(key);
    return undefined;
  }

  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    if (ttlMs > 0) this.entries?.set(key, { value, expires: this.now() + ttlMs });
  }

  clear(): void {
    this.entries?.clear();
  }
}
