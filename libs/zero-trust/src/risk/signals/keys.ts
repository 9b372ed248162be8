import type { Principal } from '../../identity/principal.interface.js';

/**
 * A store key for `signal` about `principal`: `zt:risk:<signal>:<kind>:<id>[:<suffix>]`.
 * The id is URI-encoded so it can hold no separator.
 *
 * @internal
 */
export function principalKey(signal: string, principal: Principal, suffix?: string): string {
  // Principals are reused across requests (the verified-token cache): their keys are built once.
  let keys = memo.get(principal);
  if (keys === undefined) {
    keys = new Map();
    memo.set(principal, keys);
  }
  const name = suffix === undefined ? signal : `${signal}\u0000${suffix}`;
  let key = keys.get(name);
  if (key === undefined) {
    const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
    key = suffix === undefined ? base : `${base}:${suffix}`;
    // Suffixes that change every minute (usage counters) are not remembered.
    if (keys.size < MEMO_PER_PRINCIPAL && !/\d/.test(suffix ?? '')) keys.set(name, key);
  }
  return key;
}

/** Keys of a principal remembered at most: one per signal and fixed suffix. */
const MEMO_PER_PRINCIPAL = 32;
const memo = new WeakMap<Principal, Map<string, string>>();

/**
 * A store key for `signal` about a client address.
 *
 * @internal
 */
export function addressKey(signal: string, ip: string): string {
  return `zt:risk:${signal}:ip:${encodeURIComponent(ip)}`;
}
