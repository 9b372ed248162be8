import type { Principal, PrincipalKind } from '../../identity/principal.interface.js';

/**
 * How many principals have their keys remembered, and how many suffixes per signal (the usage
 * signal's per-minute keys come and go). Each map starts over when full: no clock is read, and a
 * key rebuilt costs what it always did.
 */
const REMEMBERED = 10_000;
const SUFFIXES = 16;

/** Built keys of one principal: by signal, then by suffix (`''` for none). */
type KeysOf = Map<string, Map<string, string>>;

const built: Record<PrincipalKind, Map<string, KeysOf>> = {
  user: new Map(),
  service: new Map(),
  integration: new Map(),
};

/** The entry of `key` in `map`, created by `create` when absent; the map starts over when full. */
function entryOf<K, V>(map: Map<K, V>, key: K, max: number, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    if (map.size >= max) map.clear();
    value = create();
    map.set(key, value);
  }
  return value;
}

/**
 * A store key for `signal` about `principal`: `zt:risk:<signal>:<kind>:<id>[:<suffix>]`, of the
 * principal class (see `keyClassOf`). The id is URI-encoded so it can hold no separator.
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
  const byPrincipal = built[principal.kind] as Map<string, KeysOf> | undefined;
  const keys =
    byPrincipal === undefined
      ? new Map()
      : entryOf(byPrincipal, principal.id, REMEMBERED, () => new Map());
  const bySuffix = entryOf(keys, signal, SUFFIXES, () => new Map<string, string>());
  return entryOf(bySuffix, suffix, SUFFIXES, () => {
    const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
    return suffix === '' ? base : `${base}:${suffix}`;
  });
}
