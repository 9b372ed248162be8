/**
 * `value` without its undefined members, so that what is absent stays absent (in JSON lines
 * and in `in` checks alike).
 *
 * @internal
 */
export function compact<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
