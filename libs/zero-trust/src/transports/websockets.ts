/**
 * `nestjs-zero-trust/websockets`: WebSocket gateways (`@nestjs/websockets` with the `ws`
 * adapter) through the zero-trust pipeline. Loads `@nestjs/platform-ws`, an optional peer.
 *
 * @packageDocumentation
 */
export { ZeroTrustWsAdapter } from './ws-adapter.js';
