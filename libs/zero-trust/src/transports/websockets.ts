/**
 * `nestjs-zero-trust/websockets`: WebSocket gateways (`@nestjs/websockets` with the `ws`
 * adapter) through the zero-trust pipeline, each socket closed when its token expires or is
 * revoked. Loads `@nestjs/platform-ws`, an optional peer.
 *
 * @packageDocumentation
 */
export { ZeroTrustWsAdapter } from './ws-adapter.js';
export type { ConnectionsOptions } from './transports-options.js';
