import { WsAdapter } from '@nestjs/platform-ws';
import type { HttpRequestLike } from '../context/request-context.js';
import { handshakes } from './handshakes.js';

/**
 * Nest's `ws` adapter, keeping each socket's upgrade request so that every message is decided on
 * the handshake's credentials (the `Authorization` header; never a token in the URL) and address:
 * `app.useWebSocketAdapter(new ZeroTrustWsAdapter(app))`. @publicApi
 */
export class ZeroTrustWsAdapter extends WsAdapter {
  override bindClientConnect(
    server: { on(event: 'connection', listener: (...args: unknown[]) => void): unknown },
    callback: (...args: unknown[]) => void,
  ): void {
    server.on('connection', (client: unknown, request: unknown, ...rest: unknown[]) => {
      if (typeof client === 'object' && client !== null)
        handshakes.set(client, request as HttpRequestLike);
      callback(client, request, ...rest);
    });
  }
}
