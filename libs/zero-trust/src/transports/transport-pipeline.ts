import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import {
  CONTEXT,
  contextOf,
  getZeroTrustContext,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { routePolicyOf } from '../routes/route-policy.js';
import { REPLAY_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { ZERO_TRUST_OPTIONS, ZERO_TRUST_RATE_LIMITER } from '../zero-trust.constants.js';
import { carrierOf, type Carrier } from './carriers.js';
import {
  decidedAbove,
  hasOwnPolicy,
  isFieldResolver,
  keepParent,
  rememberField,
  type FieldPath,
} from './graphql-fields.js';
import { refusalBody, sessions, withAuthorization } from './sessions.js';

/**
 * Executions (their argument arrays) the pipeline allowed, with their context: later global guards
 * pass them, the parameter decorators read the context.
 */
const allowed = new WeakMap<object, ZeroTrustRequestContext>();

/** The context of an execution: its request's, or the one the pipeline allowed. @internal */
export const contextOfExecution = (execution: ExecutionContext) =>
  execution.getType() === 'http'
    ? getZeroTrustContext(execution.switchToHttp().getRequest<object>())
    : (allowed.get(execution.getArgs()) ?? allowed.get(sharedArgument(execution)));

/**
 * An argument the handler's parameters see as the guards did (Nest builds them another argument
 * array): the transport context of a message, the GraphQL context of an operation, the parsed
 * data of a socket message (its own object: two messages of one socket never share it).
 */
function sharedArgument(execution: ExecutionContext): object {
  // GraphQL: the field's `info` (its context object is the whole operation's); a socket message:
  // its parsed data; a message: its transport context.
  const shared: unknown = execution.getArgByIndex(
    execution.getType<string>() === 'graphql' ? 3 : 1,
  );
  return typeof shared === 'object' && shared !== null ? shared : execution.getArgs();
}

/** Whether the pipeline allowed this (non-HTTP) execution. @internal */
export const messageAllowed = (execution: ExecutionContext): boolean =>
  allowed.has(execution.getArgs());

/** Where a refused message's headers would go: nowhere (both adapters' setters). */
const NO_RESPONSE = { set: () => undefined, header: () => undefined, setHeader: () => undefined };

/**
 * The HTTP pipeline's guards, run where Nest gives no HTTP request of its own. On a message:
 * authentication (the token in the message's headers), the principal's rate limit, type-level
 * and record-level authorization, one decision record, and a replay window for handlers that
 * change state; a refusal is an `RpcException` carrying `{ status, statusCode, code, message }`,
 * and a refused RabbitMQ message is rejected when `messages.rabbitMqAck` is `manual`. On a GraphQL
 * root field: every guard of HTTP on the operation's request ({@link TransportPipeline.operation}).
 * @internal
 */
@Injectable()
export class TransportPipeline {
  private readonly logger = new Logger('ZeroTrust');
  private guards: Record<'messages' | 'operations' | 'fields', CanActivate[]> | undefined;

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly moduleRef: ModuleRef,
    private readonly audit: AuditService,
    @Inject(SharedStateStore) private readonly state: SharedStateStore,
  ) {}

  /** Decides a message (or refuses a context this library does not know). */
  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const carrier = execution.getType() === 'rpc' ? carrierOf(execution) : undefined;
    if (carrier === undefined || this.options.messages === undefined)
      throw new ZeroTrustError('ZT_UNSUPPORTED_CONTEXT', 403);
    const request: HttpRequestLike & { headers: Record<string, string> } = {
      headers: carrier.token === undefined ? {} : { authorization: carrier.token },
      method: 'MESSAGE',
      url: carrier.pattern,
      body: execution.getArgByIndex(0),
      params: {},
      query: {},
    };
    const context = contextOf(request, `${carrier.transport}:${carrier.pattern}`);
    const view = httpView(execution, request);
    try {
      const guards = this.pipeline().messages;
      await runGuards(guards.slice(0, -1), view);
      // Before the last guard writes the decision record: a replay is one record, a deny.
      await this.checkReplay(execution, carrier, request, context);
      await runGuards(guards.slice(-1), view);
    } catch (error) {
      throw await this.refuse(carrier, error);
    }
    this.audit.finish(context);
    allowed.set(execution.getArgs(), context).set(sharedArgument(execution), context);
    return true;
  }

  /**
   * Decides a GraphQL field on the operation's HTTP request (over graphql-ws: the handshake with
   * the token of `connection_init`, see `zeroTrustGraphqlWs`), its arguments as the resolvers'
   * `params` and `body`: a root field (a query, mutation or subscription at subscribe time) with
   * every guard of HTTP, risk included; a `@ResolveField` method with a policy of its own with
   * authentication and both authorization guards, once per parent object (`parentOf`). Each
   * is decided on a context of its own (its records, its decision record), with the request's id
   * and address, so an alias or a list item never reuses another field's record. A field resolver
   * without a policy of its own is served under the decision of the field above it. A refusal is
   * a `GraphQLError` with `extensions.code` (`UNAUTHENTICATED`, `FORBIDDEN`, ...) and the
   * library's code in `extensions.zt`; the other fields are served.
   */
  async operation(execution: ExecutionContext): Promise<boolean> {
    const [parent, args, gql, info] =
      execution.getArgs<[unknown, object, { req?: HttpRequestLike }, { path?: FieldPath }]>();
    const request = gql?.req?.headers === undefined ? overGraphqlWs(gql?.req) : gql.req;
    // Neither HTTP nor a connection zeroTrustGraphqlWs authenticated: nothing to decide on.
    if (request === undefined) throw new ZeroTrustError('ZT_UNSUPPORTED_CONTEXT', 403);
    const handler = execution.getHandler();
    const field = isFieldResolver(handler);
    if (field && !hasOwnPolicy(handler)) {
      const above = decidedAbove(info?.path);
      // Its parent was served, so a field above was decided; fail closed if not found.
      if (above === undefined)
        throw await graphqlError(new ZeroTrustError('ZT_ACCESS_DENIED', 403));
      return this.allowField(execution, info, above);
    }
    // A context per field, with the request's id, time and address (its record, its resources).
    const route = (request.originalUrl ?? request.url ?? '').split('?')[0] ?? '';
    const { requestId, time, ip, peer, method, forwardingProblem } = contextOf(
      request,
      route,
      this.options.trustedProxies,
    );
    const context: ZeroTrustRequestContext = {
      requestId,
      time,
      ip,
      peer,
      method,
      forwardingProblem,
      route,
      resources: new Map(),
      resolved: new Map(),
    };
    const view = Object.create(request, {
      params: { value: args },
      body: { value: args },
      [CONTEXT]: { value: context },
    }) as HttpRequestLike;
    if (field) keepParent(view, parent);
    // Apollo's context holds the response as `res`, Mercurius's as `reply`.
    const { res, reply } = gql as { res?: unknown; reply?: MercuriusReply };
    const response = res ?? reply ?? NO_RESPONSE;
    const guards = this.pipeline();
    try {
      await runGuards(
        field ? guards.fields : guards.operations,
        httpView(execution, view, response),
      );
    } catch (error) {
      throw await graphqlError(error, res === undefined ? reply : undefined);
    }
    rememberField(info?.path, context);
    return this.allowField(execution, info, context);
  }

  /** Lets a field's later guards pass and its parameters (and `PolicyService`) see `context`. */
  private allowField(
    execution: ExecutionContext,
    info: { path?: FieldPath } | undefined,
    context: ZeroTrustRequestContext,
  ): true {
    allowed.set(execution.getArgs(), context).set(sharedArgument(execution), context);
    // `policies.conditionFor(info, ...)` in a resolver, as `conditionFor(request, ...)` on HTTP.
    if (info !== undefined) (info as HttpRequestLike)[CONTEXT] = context;
    return true;
  }

  /**
   * Decides a WebSocket message (`@SubscribeMessage`) on the socket's session: the token it was
   * authenticated with (handshake header or first message), the handshake's address, the
   * message's data as the resolvers' `params` and `body`; one decision record per message. An authentication failure (a token expired or revoked since the handshake too) also
   * closes the socket with 4401; any refusal is a `WsException` `{ status, code, message }`.
   */
  async socketMessage(execution: ExecutionContext): Promise<boolean> {
    const ws = execution.switchToWs();
    const client = ws.getClient<{ close?: (code: number, reason: string) => void }>();
    const session = sessions.get(client);
    // Without ZeroTrustWsAdapter the handshake is gone: nothing to decide on.
    if (session === undefined) throw new ZeroTrustError('ZT_UNSUPPORTED_CONTEXT', 403);
    const data: unknown = ws.getData();
    try {
      // A message sent before the first message's authentication is over waits for it.
      await session.ready;
      const message = withAuthorization(session.handshake, session.authorization, {
        params: { value: typeof data === 'object' && data !== null ? data : {} },
        body: { value: data },
        method: { value: 'MESSAGE' },
      });
      const context = contextOf(message, `ws:${ws.getPattern()}`, this.options.trustedProxies);
      await runGuards(this.pipeline().operations, httpView(execution, message));
      this.audit.finish(context);
      allowed.set(execution.getArgs(), context).set(sharedArgument(execution), context);
      return true;
    } catch (error) {
      const refusal =
        error instanceof ZeroTrustError ? error : new ZeroTrustError('ZT_POLICY_FAILED', 503);
      if (!(error instanceof ZeroTrustError)) this.logger.error('WebSocket pipeline failed', error);
      // After the refusal's exception event, which Nest sends once this rejects.
      if (refusal.getStatus() === 401) setImmediate(() => client.close?.(4401, refusal.code));
      const { WsException } = await import('@nestjs/websockets');
      throw new WsException(refusalBody(refusal));
    }
  }

  /**
   * The zero-trust guards in the HTTP order; messages skip risk (it judges a user's client), field
   * resolvers the rate limit and risk (their root field counted and assessed the operation).
   */
  private pipeline(): Record<'messages' | 'operations' | 'fields', CanActivate[]> {
    if (this.guards !== undefined) return this.guards;
    const [authentication, authorization, risk, record] =
      this.moduleRef.get<CanActivate[]>(MESSAGE_GUARDS);
    let limiter: CanActivate[] = [];
    try {
      limiter = [this.moduleRef.get<CanActivate>(ZERO_TRUST_RATE_LIMITER, { strict: false })];
    } catch {
      // No ZeroTrustThrottlerModule: no rate limit, as on HTTP.
    }
    const before = [authentication, ...limiter, authorization] as CanActivate[];
    this.guards = {
      messages: [...before, record as CanActivate],
      operations: [...before, risk as CanActivate, record as CanActivate],
      fields: [authentication, authorization, record] as CanActivate[],
    };
    return this.guards;
  }

  /** A handler that changes state takes each message once per token (`jti`) and message id. */
  private async checkReplay(
    execution: ExecutionContext,
    carrier: Carrier,
    request: HttpRequestLike,
    context: ReturnType<typeof contextOf>,
  ): Promise<void> {
    const policy = routePolicyOf(execution.getClass<Type>(), execution.getHandler() as never);
    const { principal } = context;
    if (principal === undefined || policy.checks.every((check) => check.action === 'read')) return;
    const id = carrier.messageId ?? digest(JSON.stringify(request.body ?? null));
    const key = `${REPLAY_KEY_PREFIX}message:${digest(`${principal.token.jti}\n${carrier.pattern}\n${id}`)}`;
    const ttl = Math.max(1, principal.token.exp - Date.now() / 1000 + this.options.clockTolerance);
    if (await this.state.claimOnce(key, Math.ceil(ttl))) return;
    const error = new ZeroTrustError('ZT_MESSAGE_REPLAY', 409);
    this.audit.record(context, {
      action: 'authn_token_reuse',
      decision: 'deny',
      mode: 'enforce',
      code: error.code,
      reason: error.message,
    });
    throw error;
  }

  /** The transport's refusal: a rejected RabbitMQ message, an `RpcException` for the caller. */
  private async refuse(carrier: Carrier, error: unknown): Promise<Error> {
    if (this.options.messages?.rabbitMqAck === 'manual') carrier.reject();
    const { RpcException } = await import('@nestjs/microservices');
    // Anything but a refusal is a fault of ours: logged, never shown to the sender.
    if (!(error instanceof ZeroTrustError)) this.logger.error('Message pipeline failed', error);
    const refusal =
      error instanceof ZeroTrustError ? error : new ZeroTrustError('ZT_POLICY_FAILED', 503);
    const { code, message } = refusal;
    return new RpcException({ status: 'error', statusCode: refusal.getStatus(), code, message });
  }
}

/** The authentication and authorization guards, in order (the module provides them). @internal */
export const MESSAGE_GUARDS = 'ZERO_TRUST:MESSAGE_GUARDS';

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** Runs guards in order; a `false` is a denial. */
async function runGuards(guards: CanActivate[], view: ExecutionContext): Promise<void> {
  for (const guard of guards)
    if (!(await guard.canActivate(view))) throw new ZeroTrustError('ZT_ACCESS_DENIED', 403);
}

/** GraphQL's codes for the library's statuses (Apollo's, as it maps HTTP exceptions). */
const GRAPHQL_CODES: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** What the pipeline uses of a Mercurius reply (Fastify's). */
interface MercuriusReply {
  header(name: string, value: string): unknown;
}

/**
 * A refusal as a GraphQL error: code, the library's code; no stack. An authentication failure,
 * which fails every field alike, also asks for HTTP 401 and its challenge: on Apollo through
 * `extensions.http` (honoured when `preserveHttpStatusForExecutionErrors` is false); on Mercurius
 * the challenge goes on its reply and the status on the error (`statusCode`, which Mercurius
 * answers with when the operation has no data and this one error).
 */
async function graphqlError(error: unknown, mercurius?: MercuriusReply): Promise<Error> {
  if (!(error instanceof ZeroTrustError)) return error as Error;
  const { GraphQLError } = await import('graphql');
  const status = error.getStatus();
  const code = GRAPHQL_CODES[status] ?? 'BAD_REQUEST';
  const challenge = error.challenge;
  if (mercurius !== undefined) {
    if (status === 401 && challenge !== undefined) mercurius.header('www-authenticate', challenge);
    const refusal = new GraphQLError(error.message, { extensions: { code, zt: error.code } });
    return Object.assign(refusal, status === 401 ? { statusCode: status } : {});
  }
  const headers = new Map(challenge === undefined ? [] : [['www-authenticate', challenge]]);
  const http = status === 401 ? { http: { status, headers } } : {};
  return new GraphQLError(error.message, { extensions: { code, zt: error.code, ...http } });
}

/**
 * The request of an operation over graphql-ws (the context's `req` is then graphql-ws's own):
 * the handshake with the token its connection was authenticated with at `connection_init`.
 */
function overGraphqlWs(connection: unknown): HttpRequestLike | undefined {
  const socket = (connection as { extra?: { socket?: unknown } } | undefined)?.extra?.socket;
  const session = typeof socket === 'object' && socket !== null ? sessions.get(socket) : undefined;
  if (session === undefined) return undefined;
  return withAuthorization(session.handshake, session.authorization, {
    method: { value: 'SUBSCRIBE' },
  });
}

/** A message or a GraphQL field seen as an HTTP request by the guards. @internal */
export function httpView(
  execution: Pick<ExecutionContext, 'getClass' | 'getHandler'> & Partial<ExecutionContext>,
  request: HttpRequestLike,
  response: unknown = NO_RESPONSE,
): ExecutionContext {
  const args = [request, response, undefined];
  const http = { getRequest: () => request, getResponse: () => response, getNext: () => undefined };
  const view = {
    getClass: () => execution.getClass(),
    getHandler: () => execution.getHandler(),
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    switchToHttp: () => http,
    switchToRpc: () => execution.switchToRpc?.(),
    switchToWs: () => execution.switchToWs?.(),
    getType: () => 'http',
  };
  return view as unknown as ExecutionContext;
}
