/**
 * Continuous access evaluation: the types of the receivers' options. The receivers are mounted
 * by `ZeroTrustModule.forRoot({ receivers })` and configured by its `continuousAccess` option.
 *
 * @packageDocumentation
 */
export type { ContinuousAccessOptions, ReceiverRoutes } from './continuous-access-options.js';
export { SessionRevokedError } from './session-revoked.error.js';
