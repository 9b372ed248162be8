import type { HttpRequestLike } from '../context/request-context.js';

/**
 * The upgrade request of each WebSocket, kept by {@link ZeroTrustWsAdapter}: the only place the
 * handshake's headers and address live once the socket is open. @internal
 */
export const handshakes = new WeakMap<object, HttpRequestLike>();
