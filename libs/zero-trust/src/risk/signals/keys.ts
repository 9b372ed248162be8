import type { Principal } from '../../identity/principal.interface.js';

/**
 * A store key for `signal` about `principal`: `zt:risk:<signal>:<kind>:<id>[:<suffix>]`, of the
 * principal class (see `keyClassOf`). The id is URI-encoded so it can hold no separator.
 *
 * @internal
 */
export function principalKey(
  signal: string,
  principal: Pick<Principal, 'kind' | 'id'>,
  suffix = '',
): string {
  const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
  return suffix === '' ? base : `${base}:${suffix}`;
}
