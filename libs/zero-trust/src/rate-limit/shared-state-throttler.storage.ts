import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { hash } from 'node:crypto';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import { ADDRESS_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';

/** What `ThrottlerStorage.increment` answers (`@nestjs/throttler`'s ThrottlerStorageRecord). */
interface ThrottlerRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** The store keys of one tracker. */
interface TrackerKeys {
  readonly hits: string;
  readonly start: string;
  readonly blocked: string;
}

const secondsUntil = (time: number, now: number): number =>
  Math.max(1, Math.ceil((time - now) / 1000));

/** Principal kinds, as `zeroTrustTracker` names them: `<kind>:<id>`. */
const PRINCIPAL_TRACKER = /^(?:user|service|integration):/;

/**
 * Whether a throttler key is the guard's own key of an authenticated principal
 * (`<throttler>:<kind>:<id>`); every other key (`ip:` trackers, custom trackers or key
 * generators) counts as per-address state.
 */
function isPrincipalTracker(throttlerName: string, key: string): boolean {
  return (
    key.length > throttlerName.length &&
    key.startsWith(throttlerName) &&
    key[throttlerName.length] === ':' &&
    PRINCIPAL_TRACKER.test(key.slice(throttlerName.length + 1))
  );
}

/**
 * `@nestjs/throttler` storage on the library's {@link SharedStateStore}: with the Redis store,
 * every instance of the application counts the same hits. A window starts at a tracker's first
 * hit and lasts `ttl`; once over the limit the tracker is blocked for `blockDuration`. Keys are
 * `rate:<digest>` for a principal tracked by `ZeroTrustThrottlerGuard`, and
 * `addr:rate:<digest>` for any other tracker (an anonymous caller's address, a custom tracker),
 * which anonymous traffic creates and so must never evict principal state (see `keyClassOf`).
 * The tracker is hashed, never stored in clear.
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
      return await this.count(this.keysOf(throttlerName, key), ttl, limit, blockDuration);
    } catch (error) {
      throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    }
  }

  /** The store keys of a tracker: `rate:<digest>:<hits|start|blocked>`. */
  private keysOf(throttlerName: string, key: string): TrackerKeys {
    const digest = hash('sha256', `${throttlerName}\0${key}`, 'base64url');
    const base = `${isPrincipalTracker(throttlerName, key) ? '' : ADDRESS_KEY_PREFIX}rate:${digest}`;
    return { hits: `${base}:hits`, start: `${base}:start`, blocked: `${base}:blocked` };
  }

  /** Counts a hit in the tracker's window; over the limit, the tracker is blocked. */
  private async count(
    keys: TrackerKeys,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerRecord> {
    const store = this.store;
    const now = this.now();
    const blockedUntil = Number((await store.get(keys.blocked)) ?? 0);
    if (blockedUntil > now) {
      const wait = secondsUntil(blockedUntil, now);
      return { totalHits: limit + 1, timeToExpire: wait, isBlocked: true, timeToBlockExpire: wait };
    }
    const ttlSeconds = Math.max(1, Math.ceil(ttl / 1000));
    // The window's start is read alongside the count (one round trip less); the first hit of
    // a window ignores it and writes its own.
    const [totalHits, start] = await Promise.all([
      store.increment(keys.hits, ttlSeconds),
      store.get(keys.start),
    ]);
    let windowEnd = Number(start ?? now) + ttl;
    if (totalHits === 1) {
      await store.set(keys.start, String(now), ttlSeconds);
      windowEnd = now + ttl;
    }
    const timeToExpire = secondsUntil(windowEnd, now);
    if (totalHits <= limit)
      return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
    const block = blockDuration > 0 ? blockDuration : windowEnd - now;
    const blockSeconds = Math.max(1, Math.ceil(block / 1000));
    await store.set(keys.blocked, String(now + block), blockSeconds);
    return { totalHits, timeToExpire, isBlocked: true, timeToBlockExpire: blockSeconds };
  }
}
