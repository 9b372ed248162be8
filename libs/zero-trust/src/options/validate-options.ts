import type * as z from 'zod';
import { parseOptions } from './schema-kit.js';
import { zeroTrustOptions } from './zero-trust-options.interface.js';

export { isAcceptableKeyUrl, normalizeType } from './schema-kit.js';
export { MAX_SAFE_TOKEN_LIFETIME } from './zero-trust-options.interface.js';

/**
 * Options with every default applied, as the library's services read them.
 *
 * @internal
 */
export type ResolvedZeroTrustOptions = z.output<typeof zeroTrustOptions>;

/** The `store` option resolved. @internal */
export type ResolvedStoreOptions = ResolvedZeroTrustOptions['store'];
/** The Redis `store` option resolved. @internal */
export type ResolvedRedisStoreOptions = Extract<ResolvedStoreOptions, { type: 'redis' }>;
/** The `mtls` option resolved. @internal */
export type ResolvedMtlsOptions = NonNullable<ResolvedZeroTrustOptions['mtls']>;
/** The `dpop` option resolved. @internal */
export type ResolvedDpopOptions = NonNullable<ResolvedZeroTrustOptions['dpop']>;
/** The `risk` option resolved; a signal switched off is `undefined`. @internal */
export type ResolvedRiskOptions = ResolvedZeroTrustOptions['risk'];

/**
 * Validates module options and applies defaults. Every problem is collected and thrown in one
 * {@link ZeroTrustConfigurationError}; values are named, never echoed (they may be secrets).
 *
 * @throws {ZeroTrustConfigurationError} `ZT_OPTIONS_INVALID` listing each problem
 * @internal
 */
export function validateOptions(input: unknown): ResolvedZeroTrustOptions {
  return parseOptions(zeroTrustOptions, input);
}
