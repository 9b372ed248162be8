import type { Principal } from '../../identity/principal.interface.js';

/** `zt:risk:<signal>:<kind>:<id>[:<suffix>]`, the id URI-encoded (no separator). @internal */
export function principalKey(
  signal: string,
  principal: Pick<Principal, 'kind' | 'id'>,
  suffix = '',
): string {
  const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
  return suffix === '' ? base : `${base}:${suffix}`;
}
