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
import { contextOf, type HttpRequestLike } from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { routePolicyOf } from '../routes/route-policy.js';
import { REPLAY_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { ZERO_TRUST_OPTIONS, ZERO_TRUST_RATE_LIMITER } from '../zero-trust.constants.js';
import { carrierOf, type Carrier } from './carriers.js';

/** Executions (their argument arrays) the pipeline allowed: later global guards pass them. */
const allowed = new WeakSet<object>();

/** Whether the message pipeline allowed this (non-HTTP) execution. @internal */
export const messageAllowed = (execution: ExecutionContext): boolean =>
  allowed.has(execution.getArgs());

/** Where a refused message's headers would go: nowhere (both adapters' setters). */
const NO_RESPONSE = { set: () => undefined, header: () => undefined, setHeader: () => undefined };

/**
 * The HTTP pipeline's guards, run on a message: authentication (the token in the message's
 * headers), the principal's rate limit, type-level and record-level authorization, one decision
 * record, and a replay window for handlers that change state. A refusal becomes the transport's
 * error (an `RpcException` carrying `{ status, code, message }`), and a refused RabbitMQ message
 * is rejected when `messages.rabbitMq.ack` is `manual`. @internal
 */
@Injectable()
export class MessagePipeline {
  private readonly logger = new Logger('ZeroTrust');
  private guards: CanActivate[] | undefined;

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
      for (const guard of this.pipeline())
        if (!(await guard.canActivate(view))) throw new ZeroTrustError('ZT_ACCESS_DENIED', 403);
      await this.checkReplay(execution, carrier, request, context);
    } catch (error) {
      throw await this.refuse(carrier, error);
    }
    this.audit.finish(context);
    allowed.add(execution.getArgs());
    return true;
  }

  /** The zero-trust guards in the HTTP order, risk aside (it judges a user's client context). */
  private pipeline(): CanActivate[] {
    if (this.guards !== undefined) return this.guards;
    const [authentication, ...authorization] = this.moduleRef.get<CanActivate[]>(MESSAGE_GUARDS);
    let limiter: CanActivate[] = [];
    try {
      limiter = [this.moduleRef.get<CanActivate>(ZERO_TRUST_RATE_LIMITER, { strict: false })];
    } catch {
      // No ZeroTrustThrottlerModule: no rate limit, as on HTTP.
    }
    this.guards = [authentication as CanActivate, ...limiter, ...authorization];
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

/** The message seen as an HTTP request by the guards, answering to no one. */
function httpView(execution: ExecutionContext, request: HttpRequestLike): ExecutionContext {
  const args = [request, NO_RESPONSE, undefined];
  const http = {
    getRequest: () => request,
    getResponse: () => NO_RESPONSE,
    getNext: () => undefined,
  };
  const view = {
    getClass: () => execution.getClass(),
    getHandler: () => execution.getHandler(),
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    switchToHttp: () => http,
    switchToRpc: () => execution.switchToRpc(),
    switchToWs: () => execution.switchToWs(),
    getType: () => 'http',
  };
  return view as unknown as ExecutionContext;
}
