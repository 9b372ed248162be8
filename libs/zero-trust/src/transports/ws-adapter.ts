import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { HttpRequestLike } from '../context/request-context.js';
import { LiveConnections, type SocketLike } from './live-connections.js';

/** The largest message a gateway's socket takes unless its gateway says otherwise (1 MiB). */
const MAX_PAYLOAD = 1024 * 1024;

/**
 * Nest's `ws` adapter, keeping each socket's handshake so that every message is decided on its
 * credentials and address: `app.useWebSocketAdapter(new ZeroTrustWsAdapter(app))`. A socket is
 * authenticated by its handshake's `Authorization` header, else by its first message
 * (`{ "event": "authenticate", "data": { "token": "..." } }`), never by a token in its URL; it is
 * closed when its token expires or is revoked. Messages are capped at 1 MiB unless the gateway
 * sets `maxPayload`. Needs the app's `ZeroTrustModule` (a boot error without it). @publicApi
 */
export class ZeroTrustWsAdapter extends WsAdapter {
  private readonly connections: LiveConnections;

  constructor(app: INestApplicationContext, options?: ConstructorParameters<typeof WsAdapter>[1]) {
    super(app, options);
    try {
      this.connections = app.get(LiveConnections, { strict: false });
    } catch {
      throw new TypeError('ZeroTrustWsAdapter needs the application to import ZeroTrustModule');
    }
  }

  /** Nest's server for a gateway, its messages capped at 1 MiB unless it sets `maxPayload`. */
  override create(port: number, options: Record<string, unknown> = {}): unknown {
    return super.create(port, { maxPayload: MAX_PAYLOAD, ...options } as never);
  }

  /** Opens each socket through the library (authentication, the watcher), then Nest's handlers. */
  override bindClientConnect(
    server: { on(event: 'connection', listener: (...args: unknown[]) => void): unknown },
    callback: (...args: unknown[]) => void,
  ): void {
    server.on('connection', (client: unknown, request: unknown, ...rest: unknown[]) => {
      // Before Nest binds the gateway's handlers: the first message is read here first.
      this.connections.openSocket(client as SocketLike, request as HttpRequestLike);
      callback(client, request, ...rest);
    });
  }
}
