import type { Principal } from '../../identity/principal.interface.js';

/**
 * A store key for `signal` about `principal`: `zt:risk:<signal>:<kind>:<id>[:<suffix>]`.
 * The id is URI-encoded so it can hold no separator.
 *
 * @internal
 */
export function principalKey(signal: string, principal: Principal, suffix?: string): string {
  const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
  return suffix === undefined ? base : `${base}:${suffix}`;
}

/**
 * A store key for `signal` about a client address.
 *
 * @internal
 */
export function addressKey(signal: string, ip: string): string {
  return `zt:risk:${signal}:ip:${encodeURIComponent(ip)}`;
}
