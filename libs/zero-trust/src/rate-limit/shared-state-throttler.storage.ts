import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { hash } from 'node:crypto';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import { ADDRESS_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const secondsUntil = (time: number, now: number): number =>
  Math.max(1, Math.ceil((time - now) / 1000));

/** `zeroTrustTracker`'s key of a principal, `<throttler>:<kind>:<id>`, after the throttler name. */
const PRINCIPAL_TRACKER = /^:(?:user|service|integration):/;

/**
 * `@nestjs/throttler` storage on the library's {@link SharedStateStore}, so that every instance
 * counts the same hits; a failing store answers 503 `ZT_STORE_UNAVAILABLE` unless fail-open.
 * @publicApi
 */
@Injectable()
export class SharedStateThrottlerStorage implements ThrottlerStorage {
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
    // Hashed, never in clear. Any tracker but a principal's (an address, a custom tracker) is
    // per-address state, which anonymous traffic creates: it must never evict principal state.
    const digest = hash('sha256', `${throttlerName}\0${key}`, 'base64url');
    const principal =
      key.startsWith(throttlerName) && PRINCIPAL_TRACKER.test(key.slice(throttlerName.length));
    const base = `${principal ? '' : ADDRESS_KEY_PREFIX}rate:${digest}`;
    return this.count(base, ttl, limit, blockDuration).catch((error: unknown) => {
      throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    });
  }

  private async count(
    base: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerRecord> {
    const store = this.store;
    const now = this.now();
    const blockedUntil = Number((await store.get(`${base}:blocked`)) ?? 0);
    if (blockedUntil > now) {
      const wait = secondsUntil(blockedUntil, now);
      return { totalHits: limit + 1, timeToExpire: wait, isBlocked: true, timeToBlockExpire: wait };
    }
    const ttlSeconds = secondsUntil(now + ttl, now);
    // The window's start is read with the count; the first hit of a window writes its own.
    const [totalHits, start] = await Promise.all([
      store.increment(`${base}:hits`, ttlSeconds),
      store.get(`${base}:start`),
    ]);
    let windowEnd = Number(start ?? now) + ttl;
    if (totalHits === 1) {
      await store.set(`${base}:start`, String(now), ttlSeconds);
      windowEnd = now + ttl;
    }
    const timeToExpire = secondsUntil(windowEnd, now);
    if (totalHits <= limit)
      return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
    const block = blockDuration > 0 ? blockDuration : windowEnd - now;
    const blockSeconds = secondsUntil(now + block, now);
    await store.set(`${base}:blocked`, String(now + block), blockSeconds);
    return { totalHits, timeToExpire, isBlocked: true, timeToBlockExpire: blockSeconds };
  }
}
