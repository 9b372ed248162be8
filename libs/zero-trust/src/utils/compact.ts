/** `value` without its undefined members, so what is absent stays absent. @internal */
export function compact<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const present: Record<string, unknown> = {};
  // for...in over the caller's own object literal: no array of entries built per call.
  for (const key in value) if (value[key] !== undefined) present[key] = value[key];
  return present as never;
}
