import type { Eventually } from '../utils/eventually.js';

/**
 * Generic shared state behind replay caches, device and location histories, baselines and
 * counters. Every key is namespaced by the caller and expires. Implementations must be safe to
 * call from several application instances at once (the Redis store is), and must reject when the
 * backing service is unreachable: the caller then fails closed unless configured otherwise.
 *
 * @publicApi
 */
export interface SharedStateStore {
  /**
   * Records `key` if it was never seen: true the first time, false afterwards (until it expires).
   * Used for one-time values such as DPoP proof `jti`s.
   */
  claimOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Adds one to a counter that starts when it is first incremented and disappears after
   * `windowSeconds`; returns the new value.
   */
  increment(key: string, windowSeconds: number): Promise<number>;
  /** Reads a value, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Writes a value that expires after `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Adds a member to a set (its expiry restarts); true when the member is new. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean>;
  /** Whether a set holds a member. */
  hasMember(key: string, member: string): Promise<boolean>;
  /**
   * Prepends a value to a list kept to its `maxLength` newest entries (its expiry restarts).
   */
  pushCapped(key: string, value: string, maxLength: number, ttlSeconds: number): Promise<void>;
  /** The list's entries, newest first. */
  list(key: string): Promise<string[]>;
  /** Resolves when the backing service answers; rejects otherwise. */
  ping(): Promise<void>;
}

/**
 * The methods every {@link SharedStateStore} has (checked at boot, wrapped by the risk engine).
 *
 * @internal
 */
export const SHARED_STATE_METHODS = [
  'claimOnce',
  'increment',
  'get',
  'set',
  'addToSet',
  'hasMember',
  'pushCapped',
  'list',
  'ping',
] as const satisfies readonly (keyof SharedStateStore)[];

/**
 * Injection token of the {@link SharedStateStore} (a Symbol named like its interface).
 *
 * @publicApi
 */
export const SharedStateStore = Symbol('SharedStateStore');

/**
 * The operations of a {@link SharedStateStore}, each answered now or later: what the library's
 * own code calls, so that the in-process store answers without a promise.
 *
 * @internal
 */
export type SharedStateAccess = {
  readonly [K in Exclude<keyof SharedStateStore, 'ping'>]: (
    ...args: Parameters<SharedStateStore[K]>
  ) => Eventually<Awaited<ReturnType<SharedStateStore[K]>>>;
};
