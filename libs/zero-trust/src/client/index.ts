/**
 * `nestjs-zero-trust/client`: outgoing service-to-service calls with service tokens, the
 * session refresher and the token endpoint exchange. Its own entry so that an application that
 * never calls out does not load `undici`.
 *
 * @packageDocumentation
 */
export {
  ServiceTokenClient,
  type ServiceFetchInit,
  type ServiceToken,
} from './service-token-client.js';
export type {
  ClientTlsOptions,
  ServiceTokenClientOptions,
  SessionRefresherOptions,
  TokenRequestOptions,
} from './validate-client-options.js';
export {
  ZeroTrustClientModule,
  type ZeroTrustClientModuleAsyncOptions,
} from './zero-trust-client.module.js';
export { SessionRefresher } from './session-refresher.js';
export { SessionRevokedError } from '../continuous-access/session-revoked.error.js';
export { DpopSigner } from './dpop-signer.js';
export { requestTokens, type TokenEndpointResponse } from './token-endpoint.js';
