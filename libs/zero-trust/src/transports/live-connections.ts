import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import {
  contextOf,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import { AuthenticationGuard } from '../identity/authentication.guard.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { Authenticated } from '../routes/decorators.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { ConnectionWatcher } from './connection-watcher.js';
import {
  refusalBody,
  refusalOf,
  sessions,
  withAuthorization,
  type LiveSession,
} from './sessions.js';
import { httpView } from './transport-pipeline.js';

/** The `ws` socket, as far as this library uses it. @internal */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  once(event: 'close' | 'message', listener: (data: unknown) => void): unknown;
  off(event: 'close' | 'message', listener: (data: unknown) => void): unknown;
}

/** A graphql-ws connection at `connection_init` (its `Context`), as read here. @publicApi */
export interface GraphqlWsConnection {
  /** The `connection_init` payload: its `authorization` (`Bearer <token>`) is read. */
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  /** graphql-ws's `extra` on `ws`: the `socket` and the upgrade `request`. */
  readonly extra: unknown;
}

const OPEN = 1;
/** WebSocket close code 1013 (try again later): the library could not decide (a 503). */
const TRY_AGAIN_LATER = 1013;

/** The policy of opening a connection: any authenticated principal. */
class LiveConnection {
  @Authenticated()
  open(this: void): void {}
}
const OPENING = { getClass: () => LiveConnection, getHandler: () => LiveConnection.prototype.open };

/** Authenticates long-lived connections; the {@link ConnectionWatcher} watches them. @internal */
@Injectable()
export class LiveConnections {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly authentication: AuthenticationGuard,
    private readonly audit: AuditService,
    private readonly watcher: ConnectionWatcher,
  ) {}

  /**
   * Authenticates the handshake with `authorization` (else its own header) as an HTTP request of
   * `route`, with one decision record. @throws {ZeroTrustError} the refusal
   */
  async authenticate(
    handshake: HttpRequestLike,
    route: string,
    authorization?: string,
  ): Promise<{ principal: Principal; context: ZeroTrustRequestContext }> {
    const request = withAuthorization(handshake, authorization);
    const context = contextOf(request, route, this.options.trustedProxies);
    try {
      await this.authentication.canActivate(httpView(OPENING, request));
    } catch (error) {
      throw refusalOf(error, 'Connection authentication failed');
    } finally {
      this.audit.finish(context);
    }
    const { principal } = context;
    if (principal === undefined) throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
    return { principal, context };
  }

  /**
   * Opens a gateway's socket: authenticated by its handshake's `Authorization` header (refused
   * for a token in its URL), else by its first message within `connections.authenticationTimeout`.
   * A refusal is an `exception` event, then the close (4401, or 1013 if it could not decide).
   */
  openSocket(socket: SocketLike, handshake: HttpRequestLike): void {
    const firstMessage = handshake.headers.authorization === undefined && !tokenInUrl(handshake);
    const opened = firstMessage
      ? this.firstMessage(socket).then((authorization) => {
          session.authorization = authorization;
          return this.authenticate(handshake, 'ws:authenticate', authorization);
        })
      : this.authenticate(handshake, 'ws:connect');
    // A message sent meanwhile awaits `opened`; its refusal is handled below.
    const session: LiveSession = { handshake, ready: opened };
    sessions.set(socket, session);
    const end = (refusal: ZeroTrustError) => closeSocket(socket, refusal);
    opened.then(({ principal, context }) => {
      if (socket.readyState !== OPEN) return;
      socket.once('close', this.watcher.watch({ principal, context, end }));
      if (firstMessage)
        socket.send(
          JSON.stringify({ event: 'authenticated', data: { expiresAt: principal.token.exp } }),
        );
    }, end);
  }

  /**
   * Authenticates a graphql-ws connection at `connection_init` by its payload's `authorization`,
   * else its handshake's header; refused: closed, and `false` for graphql-ws.
   */
  async connectGraphqlWs(connection: GraphqlWsConnection): Promise<boolean> {
    const { socket, request } = (connection.extra ?? {}) as {
      socket?: SocketLike;
      request?: HttpRequestLike;
    };
    if (socket === undefined || request?.headers === undefined) return false;
    const presented = connection.connectionParams?.authorization;
    const authorization = typeof presented === 'string' ? presented : undefined;
    // graphql-ws close codes: 4401 Unauthorized (no token), 4403 Forbidden (refused), or 1013.
    const end = (refusal: ZeroTrustError) => {
      const code = refusal.code === 'ZT_TOKEN_MISSING' ? 4401 : 4403;
      socket.close(refusal.getStatus() === 503 ? TRY_AGAIN_LATER : code, refusal.code);
    };
    try {
      const { principal, context } = await this.authenticate(
        request,
        'graphql-ws:connection_init',
        authorization,
      );
      if (socket.readyState !== OPEN) return false;
      sessions.set(socket, { handshake: request, authorization });
      socket.once('close', this.watcher.watch({ principal, context, end }));
      return true;
    } catch (error) {
      end(error as ZeroTrustError);
      return false;
    }
  }

  /** The first message's `Authorization` value, if it is `authenticate` with a token in time. */
  private firstMessage(socket: SocketLike): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        socket.off('message', onMessage);
        socket.off('close', onClose);
        outcome();
      };
      const onMessage = (data: unknown) => settle(() => resolve(tokenOf(data)));
      // Gone before authenticating: nothing to refuse, nothing to record.
      const onClose = () => settle(() => reject(new ZeroTrustError('ZT_TOKEN_MISSING', 401)));
      const timeout = this.options.connections.authenticationTimeout * 1000;
      const timer = setTimeout(() => settle(() => resolve(undefined)), timeout);
      socket.once('message', onMessage);
      socket.once('close', onClose);
    });
  }
}

/** Sends the refusal as an `exception` event, then closes the socket (4401, or 1013). */
function closeSocket(socket: SocketLike, refusal: ZeroTrustError): void {
  if (socket.readyState !== OPEN) return;
  socket.send(JSON.stringify({ event: 'exception', data: refusalBody(refusal) }));
  socket.close(refusal.getStatus() === 503 ? TRY_AGAIN_LATER : 4401, refusal.code);
}

/** `Bearer <token>` of a first message `{ event: 'authenticate', data: { token } }`, if it is one. */
function tokenOf(data: unknown): string | undefined {
  try {
    const message = JSON.parse(String(data)) as { event?: unknown; data?: { token?: unknown } };
    const token = message.event === 'authenticate' ? message.data?.token : undefined;
    return typeof token === 'string' && token.length > 0 ? `Bearer ${token}` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the handshake's URL carries an `access_token` parameter (refused, never read). */
function tokenInUrl(handshake: HttpRequestLike): boolean {
  const query = new URLSearchParams((handshake.url ?? '').split('?')[1]);
  return [...query.keys()].some((key) => key.startsWith('access_token'));
}
