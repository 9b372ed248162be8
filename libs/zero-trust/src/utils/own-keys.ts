// Lookups by keys from outside (principal ids, audiences, SPIFFE paths): on a plain object,
// `constructor` or `toString` answer from Object.prototype and `__proto__` replaces the prototype.

/** A copy of `record` with no prototype, `__proto__` included as an own key. @internal */
export function ownRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const copy = Object.create(null) as Record<string, T>;
  for (const key of Object.keys(record)) copy[key] = record[key] as T;
  return copy;
}

/** The value `record` holds under `key` itself, never an inherited one. @internal */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
