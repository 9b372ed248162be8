import type { ZeroTrustRequestContext } from './request-context.js';

/** Costly request attributes for abilities (`env.<key>`), computed when read. @publicApi */
export interface AbilityEnvSource {
  /** The `env` keys this source provides, e.g. `['risk', 'country']`. */
  readonly keys: readonly string[];
  /** Computes the values of the keys for one request (memoize per request if costly). */
  load(request: object, context: ZeroTrustRequestContext): Promise<Record<string, unknown>>;
}

/** Injection token of the {@link AbilityEnvSource}s the authorization guard consults. @internal */
export const ABILITY_ENV_SOURCES = Symbol('AbilityEnvSources');

/** Thrown by a lazy `env` value read unloaded: the builder awaits `load()` and reruns. @internal */
export class PendingEnvValue extends Error {
  constructor(readonly load: () => Promise<void>) {
    super('A lazy environment value is not loaded yet');
  }
}

/** `base` plus, per source key, a getter throwing {@link PendingEnvValue} till loaded. @internal */
export function lazyEnv<T extends object>(
  base: T,
  sources: readonly AbilityEnvSource[],
  request: object,
  context: ZeroTrustRequestContext,
): T {
  const env = { ...base };
  for (const source of sources) {
    let values: Record<string, unknown> | undefined;
    let loading: Promise<void> | undefined;
    const load = (): Promise<void> =>
      (loading ??= source.load(request, context).then((loaded) => void (values = loaded)));
    for (const key of source.keys) {
      Object.defineProperty(env, key, {
        enumerable: true,
        get(): unknown {
          if (values === undefined) throw new PendingEnvValue(load);
          return values[key];
        },
      });
    }
  }
  return env;
}
