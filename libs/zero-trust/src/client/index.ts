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
  type ServiceTokenClientOptions,
} from './service-token-client.js';
export {
  ZeroTrustClientModule,
  type ZeroTrustClientModuleAsyncOptions,
} from './zero-trust-client.module.js';
export { SessionRefresher, type SessionRefresherOptions } from './session-refresher.js';
export { DpopSigner } from './dpop-signer.js';
export {
  requestTokens,
  type ClientTlsOptions,
  type TokenEndpointResponse,
  type TokenRequestOptions,
} from './token-endpoint.js';
