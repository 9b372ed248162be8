import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { hash } from 'node:crypto';
import { LruCache } from '../utils/lru-cache.js';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import { SharedStateStore } from '../stores/shared-state-store.interface.js';

/** What `ThrottlerStorage.increment` answers (`@nestjs/throttler`'s ThrottlerStorageRecord). */
interface ThrottlerRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

const secondsUntil = (time: number, now: number): number =>
  Math.max(1, Math.ceil((time - now) / 1000));

/**
 * `@nestjs/throttler` storage on the library's {@link SharedStateStore}: with the Redis store,
 * every instance of the application counts the same hits. A window starts at a tracker's first
 * hit and lasts `ttl`; once over the limit the tracker is blocked for `blockDuration`. Keys are
 * `rate:<digest>` (the tracker, such as a principal id, is hashed, never stored in clear).
 *
 * When the store is unreachable `increment` rejects, and the request is refused with 503
 * `ZT_STORE_UNAVAILABLE` unless the store fails open (`store.failOpen.state`).
 *
 * @example
 * ```ts
 * ThrottlerModule.forRootAsync({
 *   inject: [SharedStateThrottlerStorage],
 *   useFactory: (storage: SharedStateThrottlerStorage) => ({
 *     throttlers: [{ ttl: 60_000, limit: 300 }],
 *     storage,
 *   }),
 * })
 * ```
 * @publicApi
 */
@Injectable()
export class SharedStateThrottlerStorage implements ThrottlerStorage {
  /** Store keys of recent trackers (one hash per tracker, not per request). */
  private readonly bases = new LruCache<string, string>(10_000, 10 * 60_000);

  constructor(
    @Inject(SharedStateStore) private readonly store: SharedStateStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** @throws {DependencyUnavailableError} `ZT_STORE_UNAVAILABLE` when the store fails */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    try {
      return await this.count(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    }
  }

  private async count(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    const name = `${throttlerName}\0${key}`;
    let base = this.bases.get(name);
    if (base === undefined) {
      base = `rate:${hash('sha256', name, 'base64url')}`;
      this.bases.set(name, base);
    }
    const now = this.now();
    const blockedUntil = Number((await this.store.get(`${base}:blocked`)) ?? 0);
    if (blockedUntil > now) {
      const wait = secondsUntil(blockedUntil, now);
      return { totalHits: limit + 1, timeToExpire: wait, isBlocked: true, timeToBlockExpire: wait };
    }
    const ttlSeconds = Math.max(1, Math.ceil(ttl / 1000));
    // The window's start is read alongside the count (one round trip less); the first hit of
    // a window ignores it and writes its own.
    const [totalHits, start] = await Promise.all([
      this.store.increment(`${base}:hits`, ttlSeconds),
      this.store.get(`${base}:start`),
    ]);
    let windowEnd = now + ttl;
    if (totalHits === 1) await this.store.set(`${base}:start`, String(now), ttlSeconds);
    else windowEnd = Number(start ?? now) + ttl;
    const timeToExpire = secondsUntil(windowEnd, now);
    if (totalHits <= limit)
      return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
    const block = blockDuration > 0 ? blockDuration : windowEnd - now;
    const blockSeconds = Math.max(1, Math.ceil(block / 1000));
    await this.store.set(`${base}:blocked`, String(now + block), blockSeconds);
    return { totalHits, timeToExpire, isBlocked: true, timeToBlockExpire: blockSeconds };
  }
}
