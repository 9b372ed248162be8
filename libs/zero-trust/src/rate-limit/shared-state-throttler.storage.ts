import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import { MemorySharedStateStore } from '../stores/memory/memory-shared-state.store.js';
import {
  ADDRESS_KEY_PREFIX,
  SharedStateStore,
  type SharedStateAccess,
} from '../stores/shared-state-store.interface.js';
import { after, allOf, isThenable, type Eventually } from '../utils/eventually.js';

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

const unavailable = (error: unknown): never => {
  throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
};

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
  /** Store keys of recent trackers, by throttler (one hash per tracker, not per request). */
  private readonly keys = new Map<string, LRUCache<string, TrackerKeys>>();

  constructor(
    @Inject(SharedStateStore) private readonly store: SharedStateStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** @throws {DependencyUnavailableError} `ZT_STORE_UNAVAILABLE` when the store fails */
  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    try {
      const counted = this.count(this.keysOf(throttlerName, key), ttl, limit, blockDuration);
      return isThenable(counted) ? counted.then(undefined, unavailable) : Promise.resolve(counted);
    } catch (error) {
      return Promise.reject(new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error));
    }
  }

  /** The store keys of a tracker: `rate:<digest>:<hits|start|blocked>`, hashed once. */
  private keysOf(throttlerName: string, key: string): TrackerKeys {
    let trackers = this.keys.get(throttlerName);
    if (trackers === undefined) {
      trackers = new LRUCache({ max: 10_000, ttl: 10 * 60_000 });
      this.keys.set(throttlerName, trackers);
    }
    let keys = trackers.get(key);
    if (keys === undefined) {
      const digest = hash('sha256', `${throttlerName}\0${key}`, 'base64url');
      const base = `${isPrincipalTracker(throttlerName, key) ? '' : ADDRESS_KEY_PREFIX}rate:${digest}`;
      keys = { hits: `${base}:hits`, start: `${base}:start`, blocked: `${base}:blocked` };
      trackers.set(key, keys);
    }
    return keys;
  }

  /** Counts a hit: synchronously with the in-process store, through promises otherwise. */
  private count(
    keys: TrackerKeys,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Eventually<ThrottlerRecord> {
    const store = MemorySharedStateStore.accessOf(this.store);
    const now = this.now();
    return after(store.get(keys.blocked), (blocked): Eventually<ThrottlerRecord> => {
      const blockedUntil = Number(blocked ?? 0);
      if (blockedUntil > now) {
        const wait = secondsUntil(blockedUntil, now);
        return {
          totalHits: limit + 1,
          timeToExpire: wait,
          isBlocked: true,
          timeToBlockExpire: wait,
        };
      }
      const ttlSeconds = Math.max(1, Math.ceil(ttl / 1000));
      // The window's start is read alongside the count (one round trip less); the first hit of
      // a window ignores it and writes its own.
      const counted = allOf([store.increment(keys.hits, ttlSeconds), store.get(keys.start)]);
      return after(counted, ([totalHits, start]) => {
        if (totalHits !== 1)
          return this.judge(
            store,
            keys,
            totalHits,
            Number(start ?? now) + ttl,
            now,
            limit,
            blockDuration,
          );
        return after(store.set(keys.start, String(now), ttlSeconds), () =>
          this.judge(store, keys, totalHits, now + ttl, now, limit, blockDuration),
        );
      });
    });
  }

  /** The record of a hit in a window ending at `windowEnd`; over the limit, the tracker is blocked. */
  private judge(
    store: SharedStateAccess,
    keys: TrackerKeys,
    totalHits: number,
    windowEnd: number,
    now: number,
    limit: number,
    blockDuration: number,
  ): Eventually<ThrottlerRecord> {
    const timeToExpire = secondsUntil(windowEnd, now);
    if (totalHits <= limit)
      return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
    const block = blockDuration > 0 ? blockDuration : windowEnd - now;
    const blockSeconds = Math.max(1, Math.ceil(block / 1000));
    return after(store.set(keys.blocked, String(now + block), blockSeconds), () => ({
      totalHits,
      timeToExpire,
      isBlocked: true,
      timeToBlockExpire: blockSeconds,
    }));
  }
}
