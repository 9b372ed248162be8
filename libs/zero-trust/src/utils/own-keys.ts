/**
 * Lookups by keys that come from outside (principal ids, client ids, audiences, SPIFFE paths,
 * header names). A plain object literal answers `constructor`, `toString`, `hasOwnProperty`,
 * `valueOf` and `__proto__` from `Object.prototype`, and assigning `__proto__` replaces its
 * prototype instead of storing a value: a principal named `constructor` then found a function
 * where a setting was expected. These helpers make such names ordinary keys.
 */

/**
 * A copy of `record` with no prototype: every key, `__proto__` included, is an own property,
 * and a key it does not hold reads as `undefined`. Use it for option maps resolved at boot.
 *
 * @internal
 */
export function ownRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const copy = Object.create(null) as Record<string, T>;
  // Object.keys lists an own `__proto__` key (JSON.parse and computed keys create one); a
  // null-prototype object stores it as data rather than running the accessor.
  for (const key of Object.keys(record)) copy[key] = record[key] as T;
  return copy;
}

/**
 * The value `record` holds under `key` itself, never one inherited from its prototype.
 *
 * @internal
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
