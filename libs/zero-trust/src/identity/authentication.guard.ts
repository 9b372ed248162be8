import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import passport from 'passport';
import { AuditService } from '../audit/audit.service.js';
import { routePolicyOf } from '../authorization/route-policy.js';
import {
  contextOf,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import {
  InvalidTokenError,
  MissingTokenError,
  ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { RAW_TOKEN, toTokenError, ZeroTrustJwtStrategy } from './jwt.strategy.js';
import type { Principal } from './principal.interface.js';

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * Global guard, first of the pipeline: every route that is not `@Public()` needs a verified
 * access token. Failures answer 401 with an RFC 6750 `WWW-Authenticate` challenge and are
 * recorded as decision events; nothing of the token is ever logged.
 *
 * @publicApi
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly strategy: ZeroTrustJwtStrategy,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (execution.getType() !== 'http') {
      throw new ZeroTrustError('ZT_UNSUPPORTED_CONTEXT', 403);
    }
    const policy = routePolicyOf(
      execution.getClass<Type>(),
      execution.getHandler() as (...args: never[]) => unknown,
    );
    if (policy.isPublic) return true;
    const http = execution.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const context = contextOf(request, policy.path);
    try {
      const principal = await this.authenticate(request, http.getResponse());
      context.principal = principal;
      request.user = principal;
      this.audit.record(context, {
        action: 'authn_token_valid',
        decision: 'allow',
        mode: 'enforce',
      });
      return true;
    } catch (caught) {
      const error = toTokenError(caught);
      this.fail(context, error, http.getResponse());
      throw error;
    }
  }

  /** Extracts the bearer token and runs the passport-jwt strategy on it. */
  protected authenticate(request: HttpRequestLike, response: unknown): Promise<Principal> {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !/^bearer(\s|$)/i.test(header)) throw new MissingTokenError();
    const match = BEARER.exec(header);
    if (match?.[1] === undefined) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
    if (match[1].length > this.options.maxTokenSize)
      throw new InvalidTokenError('ZT_TOKEN_TOO_LARGE');
    (request as { [RAW_TOKEN]?: string })[RAW_TOKEN] = match[1];
    return new Promise<Principal>((resolve, reject) => {
      // A fresh object per request: passport decorates the strategy with per-request callbacks.
      const strategy = Object.create(this.strategy) as passport.Strategy;
      const run = passport.authenticate(
        strategy,
        { session: false },
        (error: unknown, user: unknown, info: unknown) => {
          if (error) reject(error);
          else if (user) resolve(user as Principal);
          else reject(info instanceof Error ? info : new InvalidTokenError());
        },
      ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      run(request, response, (error?: unknown) => reject(error ?? new InvalidTokenError()));
    }).finally(() => {
      delete (request as { [RAW_TOKEN]?: string })[RAW_TOKEN];
    });
  }

  private fail(context: ZeroTrustRequestContext, error: ZeroTrustError, response: unknown): void {
    const action =
      error.code === 'ZT_TOKEN_MISSING'
        ? 'authn_token_missing'
        : error.code === 'ZT_TOKEN_REVOKED'
          ? 'authn_token_revoked'
          : 'authn_token_invalid';
    this.audit.record(context, {
      action,
      decision: 'deny',
      mode: 'enforce',
      code: error.code,
      reason: error.message,
    });
    const challenge = error.challenge;
    if (challenge !== undefined)
      this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
  }
}
