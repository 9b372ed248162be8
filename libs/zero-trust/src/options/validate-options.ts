import type * as z from 'zod';
import {
  withReceivers,
  type ReceiverRoutes,
} from '../continuous-access/continuous-access-options.js';
import { parseOptions } from './schema-kit.js';
import { zeroTrustOptions } from './zero-trust-options.interface.js';

export { isAcceptableKeyUrl, normalizeType } from './schema-kit.js';
export { MAX_SAFE_TOKEN_LIFETIME } from './zero-trust-options.interface.js';

/** Options with every default applied, as the library's services read them. @internal */
export type ResolvedZeroTrustOptions = z.output<typeof zeroTrustOptions>;

/** The Redis `store` option resolved. @internal */
export type ResolvedRedisStoreOptions = Extract<
  ResolvedZeroTrustOptions['store'],
  { type: 'redis' }
>;
/** The `mtls` option resolved. @internal */
export type ResolvedMtlsOptions = NonNullable<ResolvedZeroTrustOptions['mtls']>;
/** The `dpop` option resolved. @internal */
export type ResolvedDpopOptions = NonNullable<ResolvedZeroTrustOptions['dpop']>;
/** The `risk` option resolved; a signal switched off is `undefined`. @internal */
export type ResolvedRiskOptions = ResolvedZeroTrustOptions['risk'];

/** Validates module options and applies defaults. @throws ZeroTrustConfigurationError @internal */
export function validateOptions(input: unknown, routes?: ReceiverRoutes): ResolvedZeroTrustOptions {
  return withReceivers(() => parseOptions(zeroTrustOptions, input), input, routes);
}
