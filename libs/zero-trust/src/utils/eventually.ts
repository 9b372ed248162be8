/**
 * A value now, or a promise of it: what the in-process store answers at once and a remote store
 * answers later. Code written against it runs synchronously when every value is already there,
 * so a request served from memory pays for no promise and no microtask turn.
 *
 * @internal
 */
export type Eventually<T> = T | Promise<T>;

/**
 * Whether a value is a promise rather than the value itself (any thenable counts: a store may
 * answer with another library's promises).
 *
 * @internal
 */
export function isThenable<T>(value: Eventually<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * Calls `next` with the value: at once when it is there, once it resolves otherwise. A
 * rejection, or an error `next` throws after a promise, rejects the promise returned; an error
 * `next` throws on a present value is thrown.
 *
 * @internal
 */
export function after<T, U>(
  value: Eventually<T>,
  next: (value: T) => Eventually<U>,
): Eventually<U> {
  return isThenable(value) ? Promise.resolve(value).then(next) : next(value);
}

/**
 * The values of a list of eventual values, in order: the list itself when none is a promise,
 * `Promise.all` of it otherwise.
 *
 * @internal
 */
export function allOf<T extends readonly unknown[]>(
  values: readonly [...T],
): Eventually<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  for (let i = 0; i < values.length; i++) {
    if (isThenable(values[i])) {
      return Promise.all(values) as Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }>;
    }
  }
  return values as unknown as { -readonly [K in keyof T]: Awaited<T[K]> };
}
