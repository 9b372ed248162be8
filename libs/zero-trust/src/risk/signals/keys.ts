import type { Principal, PrincipalKind } from '../../identity/principal.interface.js';
import { LruCache } from '../../utils/lru-cache.js';

/** Principals whose keys are remembered, per kind, and for how long. */
const REMEMBERED = 10_000;
const REMEMBERED_MS = 10 * 60_000;

/** Built keys of one principal: by signal, then by suffix (`''` for none). */
type KeysOf = Map<string, Map<string, string>>;

const built: Record<PrincipalKind, LruCache<string, KeysOf>> = {
  user: new LruCache(REMEMBERED, REMEMBERED_MS),
  service: new LruCache(REMEMBERED, REMEMBERED_MS),
  integration: new LruCache(REMEMBERED, REMEMBERED_MS),
};

/**
 * A store key for `signal` about `principal`: `zt:risk:<signal>:<kind>:<id>[:<suffix>]`.
 * The id is URI-encoded so it can hold no separator.
 *
 * Each key is built once and the same string returned afterwards (bounded): a store finds a
 * string it has seen before without hashing it again, where a key built anew on every request
 * was hashed, and copied into one piece first, at every lookup.
 *
 * @internal
 */
export function principalKey(
  signal: string,
  principal: Pick<Principal, 'kind' | 'id'>,
  suffix = '',
): string {
  const cache = built[principal.kind] as LruCache<string, KeysOf> | undefined;
  let keys = cache?.get(principal.id);
  if (keys === undefined) {
    keys = new Map();
    cache?.set(principal.id, keys);
  }
  let bySuffix = keys.get(signal);
  if (bySuffix === undefined) {
    bySuffix = new Map();
    keys.set(signal, bySuffix);
  }
  let key = bySuffix.get(suffix);
  if (key === undefined) {
    const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
    key = suffix === '' ? base : `${base}:${suffix}`;
    bySuffix.set(suffix, key);
  }
  return key;
}

const addressKeys = new Map<string, LruCache<string, string>>();

/**
 * A store key for `signal` about a client address: `zt:risk:<signal>:ip:<address>`, built once
 * per address (bounded), as {@link principalKey}.
 *
 * @internal
 */
export function addressKey(signal: string, ip: string): string {
  let cache = addressKeys.get(signal);
  if (cache === undefined) {
    cache = new LruCache(REMEMBERED, REMEMBERED_MS);
    addressKeys.set(signal, cache);
  }
  let key = cache.get(ip);
  if (key === undefined) {
    key = `zt:risk:${signal}:ip:${encodeURIComponent(ip)}`;
    cache.set(ip, key);
  }
  return key;
}
