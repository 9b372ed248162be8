import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from '../authorization/authorization.guard.js';
import {
  CONTEXT,
  contextOf,
  getZeroTrustContext,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import { AuthenticationGuard } from '../identity/authentication.guard.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ContextRiskGuard } from '../risk/risk.guard.js';
import { routePolicyOf } from '../routes/route-policy.js';
import { REPLAY_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { ZERO_TRUST_OPTIONS, ZERO_TRUST_RATE_LIMITER } from '../zero-trust.constants.js';
import { carrierOf, type Carrier } from './carriers.js';
import {
  decided,
  decidedAbove,
  hasOwnPolicy,
  isFieldResolver,
  parents,
  type FieldPath,
} from './graphql-fields.js';
import { refusalBody, refusalOf, sessions, withAuthorization } from './sessions.js';

/** Executions the pipeline allowed, with their context (later guards and parameters read it). */
const allowed = new WeakMap<object, ZeroTrustRequestContext>();

/** The context of an execution: its request's, or the one the pipeline allowed. @internal */
export const contextOfExecution = (execution: ExecutionContext) =>
  execution.getType() === 'http'
    ? getZeroTrustContext(execution.switchToHttp().getRequest<object>())
    : (allowed.get(execution.getArgs()) ?? allowed.get(sharedArgument(execution)));

/**
 * An argument the handler's parameters see as the guards did (Nest builds them another argument
 * array): a GraphQL field's `info` (its context object is the whole operation's), a socket
 * message's parsed data (never shared by two messages), a message's transport context.
 */
function sharedArgument(execution: ExecutionContext): object {
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
 * The HTTP pipeline's guards, run on an HTTP view of a message, a GraphQL field or a socket
 * message, where Nest gives no HTTP request of its own. @internal
 */
@Injectable()
export class TransportPipeline {
  /** Authentication, the rate limit, type-level authorization. */
  private readonly before: CanActivate[];
  private readonly operations: CanActivate[];
  private readonly fields: CanActivate[];

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly audit: AuditService,
    @Inject(SharedStateStore) private readonly state: SharedStateStore,
    authentication: AuthenticationGuard,
    authorization: AuthorizationGuard,
    risk: ContextRiskGuard,
    // Record-level authorization, the last guard: it writes the decision record.
    private readonly record: RecordAuthorizationGuard,
    // No ZeroTrustThrottlerModule: no rate limit, as on HTTP.
    @Optional() @Inject(ZERO_TRUST_RATE_LIMITER) limiter?: CanActivate,
  ) {
    // The HTTP order. Messages skip risk (it judges a user's client); field resolvers the rate
    // limit and risk (their root field counted and assessed the operation).
    this.before = [authentication, ...(limiter === undefined ? [] : [limiter]), authorization];
    this.operations = [...this.before, risk, record];
    this.fields = [authentication, authorization, record];
  }

  /**
   * Decides a message: the token in its headers, a replay window for handlers that change state;
   * a refusal is an `RpcException` `{ status, statusCode, code, message }`, and a refused RabbitMQ
   * message is rejected when `messages.rabbitMqAck` is `manual`.
   */
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
      await runGuards(this.before, view);
      // Before the last guard writes the decision record: a replay is one record, a deny.
      await this.checkReplay(execution, carrier, request, context);
      await runGuards([this.record], view);
    } catch (error) {
      if (this.options.messages.rabbitMqAck === 'manual') carrier.reject();
      const { RpcException } = await import('@nestjs/microservices');
      throw new RpcException(refusalBody(refusalOf(error, 'Message pipeline failed')));
    }
    return this.allow(execution, context);
  }

  /**
   * Decides a GraphQL field on the operation's HTTP request (over graphql-ws: the handshake with
   * the token of `connection_init`), its arguments as the resolvers' `params` and `body`: a root
   * field with every guard of HTTP; a `@ResolveField` method with a policy of its own without the
   * rate limit and risk, once per parent object. Each on a context of its own (its records, its
   * decision record), so an alias or a list item never reuses another field's record. A field
   * resolver without a policy is served under the decision of the field above it. A refusal is a
   * `GraphQLError` with `extensions.code` and the library's code in `extensions.zt`.
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
      return this.allow(execution, above, info);
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
    if (field) parents.set(view, parent);
    // Apollo's context holds the response as `res`, Mercurius's as `reply`.
    const { res, reply } = gql as { res?: unknown; reply?: MercuriusReply };
    const response = res ?? reply ?? NO_RESPONSE;
    try {
      await runGuards(field ? this.fields : this.operations, httpView(execution, view, response));
    } catch (error) {
      throw await graphqlError(error, res === undefined ? reply : undefined);
    }
    if (info?.path !== undefined) decided.set(info.path, context);
    return this.allow(execution, context, info);
  }

  /** Lets the later guards pass, the parameters (and `PolicyService`) see `context`. */
  private allow(execution: ExecutionContext, context: ZeroTrustRequestContext, info?: object) {
    allowed.set(execution.getArgs(), context).set(sharedArgument(execution), context);
    // `policies.conditionFor(info, ...)` in a resolver, as `conditionFor(request, ...)` on HTTP.
    if (info !== undefined) (info as HttpRequestLike)[CONTEXT] = context;
    return true;
  }

  /**
   * Decides a socket message (`@SubscribeMessage`) on the socket's token and handshake address,
   * its data as the resolvers' `params` and `body`. A refusal is a `WsException`; an
   * authentication failure (a token expired or revoked since) also closes the socket with 4401.
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
      await runGuards(this.operations, httpView(execution, message));
      return this.allow(execution, context);
    } catch (error) {
      const refusal = refusalOf(error, 'WebSocket pipeline failed');
      // After the refusal's exception event, which Nest sends once this rejects.
      if (refusal.getStatus() === 401) setImmediate(() => client.close?.(4401, refusal.code));
      const { WsException } = await import('@nestjs/websockets');
      throw new WsException(refusalBody(refusal));
    }
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
}

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

/** The request of an operation over graphql-ws: the handshake with the connection's token. */
function overGraphqlWs(connection: unknown): HttpRequestLike | undefined {
  const socket = (connection as { extra?: { socket?: unknown } } | undefined)?.extra?.socket;
  const session = typeof socket === 'object' && socket !== null ? sessions.get(socket) : undefined;
  if (session === undefined) return undefined;
  return withAuthorization(session.handshake, session.authorization, {
    method: { value: 'SUBSCRIBE' },
  });
}

/**
 * A message, a GraphQL field or a socket message as an HTTP request, with what the guards read of
 * an execution (the throttler's included): its type, class, handler, request and response. @internal
 */
export function httpView(
  execution: { getClass(): object; getHandler(): object },
  request: HttpRequestLike,
  response: unknown = NO_RESPONSE,
): ExecutionContext {
  const http = { getRequest: () => request, getResponse: () => response, getNext: () => undefined };
  const view = {
    getClass: () => execution.getClass(),
    getHandler: () => execution.getHandler(),
    switchToHttp: () => http,
    getType: () => 'http',
  };
  return view as unknown as ExecutionContext;
}
