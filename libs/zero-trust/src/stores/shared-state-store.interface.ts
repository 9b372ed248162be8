/**
 * Generic shared state behind replay caches, device and location histories, baselines and
 * counters. Every key is namespaced by the caller and expires. Implementations must be safe to
 * call from several application instances at once (the Redis store is), and must reject when the
 * backing service is unreachable: the caller then fails closed unless configured otherwise.
 *
 * Keys belong to one of three classes, told apart by their prefix (see {@link keyClassOf}); a
 * bounded store keeps each class within a budget of its own, so that traffic creating keys of
 * one class never pushes out keys of another:
 * - `replay:` one-time values (DPoP proof `jti`s): never dropped before they expire. A store
 *   that has no room for a new one throws `StoreFullError` (the request is refused).
 * - `addr:` state about a client address, which unauthenticated requests create (failure
 *   counters, rate-limit counters of anonymous callers): may be evicted, least recently used
 *   first.
 * - anything else: state about an authenticated principal (locations, devices, learnt routes,
 *   baselines, its counters), which only a verified token can create.
 *
 * The parts of a key after its prefix never hold a caller-chosen separator: ids and addresses
 * are URI-encoded or hashed.
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
 * The class of a {@link SharedStateStore} key, from its prefix: `replay` (`replay:`), `address`
 * (`addr:`) or `principal` (any other key).
 *
 * @publicApi
 */
export type StateKeyClass = 'replay' | 'address' | 'principal';

/**
 * Prefix of one-time values that must never be dropped before they expire (DPoP proof `jti`s).
 *
 * @publicApi
 */
export const REPLAY_KEY_PREFIX = 'replay:';

/**
 * Prefix of state about a client address, which unauthenticated requests create.
 *
 * @publicApi
 */
export const ADDRESS_KEY_PREFIX = 'addr:';

/**
 * The class of a shared-state key, for a store that keeps each class within its own budget.
 *
 * @example
 * ```ts
 * keyClassOf('replay:dpop:<jkt>:<jti>'); // 'replay'
 * keyClassOf('addr:authn-fail:<digest>'); // 'address'
 * keyClassOf('zt:risk:geo:user:alice'); // 'principal'
 * ```
 * @publicApi
 */
export function keyClassOf(key: string): StateKeyClass {
  if (key.startsWith(REPLAY_KEY_PREFIX)) return 'replay';
  if (key.startsWith(ADDRESS_KEY_PREFIX)) return 'address';
  return 'principal';
}
