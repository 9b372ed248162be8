/**
 * `nestjs-zero-trust/graphql-ws`: GraphQL subscriptions over graphql-ws (`@nestjs/graphql` with
 * Apollo) through the zero-trust pipeline.
 *
 * @packageDocumentation
 */
import type { ModuleRef } from '@nestjs/core';
import { LiveConnections, type GraphqlWsConnection } from './live-connections.js';

export type { GraphqlWsConnection } from './live-connections.js';

/** The graphql-ws server hooks {@link zeroTrustGraphqlWs} returns. @publicApi */
export interface ZeroTrustGraphqlWsHooks {
  /**
   * Verifies the token of `connection_init` (its payload's `authorization`, `Bearer <token>`):
   * `true` acknowledges; a refusal closes the socket (4401 without a token, 4403 for a refused
   * one, 1013 when the library could not decide) and answers `false`.
   */
  onConnect(connection: GraphqlWsConnection): Promise<boolean>;
}

/**
 * The graphql-ws options that authenticate each connection at `connection_init` and hand it to
 * the library's watcher (closed at the token's `exp` and on revocation):
 * `subscriptions: { 'graphql-ws': { ...zeroTrustGraphqlWs(moduleRef) } }` in a
 * `GraphQLModule.forRootAsync` factory that injects `ModuleRef`. Each subscription's root field is
 * then decided like a query, with `@Can`. @publicApi
 */
export function zeroTrustGraphqlWs(moduleRef: ModuleRef): ZeroTrustGraphqlWsHooks {
  return {
    // Looked up per connection (the hooks are made before the module's providers); without
    // ZeroTrustModule in the app `get` throws, and no connection is acknowledged.
    onConnect: (connection) =>
      moduleRef.get(LiveConnections, { strict: false }).connectGraphqlWs(connection),
  };
}
