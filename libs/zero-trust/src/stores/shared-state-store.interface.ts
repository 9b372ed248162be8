/**
 * Generic shared state behind replay caches, histories, baselines and counters. Every key is
 * namespaced by the caller and expires. Implementations must be safe from several instances at
 * once, and must reject when the backing service is unreachable (the caller then fails closed).
 *
 * Keys fall in three classes by prefix ({@link keyClassOf}), each kept within its own budget by
 * a bounded store: `replay:` one-time values, never dropped before they expire (a full store
 * throws `StoreFullError`); `addr:` per-address state, which anonymous requests create (may be
 * evicted, least recently used first); anything else, per-principal state. @publicApi
 */
export interface SharedStateStore {
  /** Records `key` if unseen: true the first time, false until it expires (DPoP `jti`s). */
  claimOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Adds one to a counter that expires `windowSeconds` after its creation; the new value. */
  increment(key: string, windowSeconds: number): Promise<number>;
  /** Reads a value, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Writes a value that expires after `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Adds a member to a set (its expiry restarts); true when the member is new. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean>;
  /** Whether a set holds a member. */
  hasMember(key: string, member: string): Promise<boolean>;
  /** Prepends to a list kept to its `maxLength` newest entries (its expiry restarts). */
  pushCapped(key: string, value: string, maxLength: number, ttlSeconds: number): Promise<void>;
  /** The list's entries, newest first. */
  list(key: string): Promise<string[]>;
  /** Resolves when the backing service answers; rejects otherwise. */
  ping(): Promise<void>;
}

/** The methods of a {@link SharedStateStore} (checked at boot). @internal */
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

/** Injection token of the {@link SharedStateStore}. @publicApi */
export const SharedStateStore = Symbol('SharedStateStore');

/** The class of a {@link SharedStateStore} key ({@link keyClassOf}). @publicApi */
export type StateKeyClass = 'replay' | 'address' | 'principal';

/** Prefix of one-time values never dropped before they expire (DPoP `jti`s). @publicApi */
export const REPLAY_KEY_PREFIX = 'replay:';

/** Prefix of state about a client address, which unauthenticated requests create. @publicApi */
export const ADDRESS_KEY_PREFIX = 'addr:';

/** A key's class from its prefix: `replay:`, `addr:` (`address`), else `principal`. @publicApi */
export function keyClassOf(key: string): StateKeyClass {
  if (key.startsWith(REPLAY_KEY_PREFIX)) return 'replay';
  return key.startsWith(ADDRESS_KEY_PREFIX) ? 'address' : 'principal';
}
