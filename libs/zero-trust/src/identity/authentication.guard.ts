import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { KeyObject } from 'node:crypto';
import passport from 'passport';
import { AuditService } from '../audit/audit.service.js';
import { routePolicyOf } from '../authorization/route-policy.js';
import {
  contextOf,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import {
  DependencyUnavailableError,
  InvalidTokenError,
  MissingTokenError,
  ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { RevocationStore } from '../stores/revocation-store.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { JwksKeySource } from './jwks-key-source.js';
import {
  RAW_TOKEN,
  toTokenError,
  VERIFYING_KEY,
  ZeroTrustJwtStrategy,
  type RequestWithToken,
} from './jwt.strategy.js';
import type { Principal } from './principal.interface.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

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
    private readonly tokens: VerifiedTokenCache,
    private readonly keys: JwksKeySource,
    @Inject(RevocationStore) private readonly revocations: RevocationStore,
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

  /**
   * Extracts the bearer token and verifies it: through the passport-jwt strategy the first
   * time, from the verified-token cache afterwards. Expiry, the verifying key still being
   * published, and revocation are checked on every request either way.
   */
  protected async authenticate(request: HttpRequestLike, response: unknown): Promise<Principal> {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !/^bearer(\s|$)/i.test(header)) throw new MissingTokenError();
    const match = BEARER.exec(header);
    if (match?.[1] === undefined) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
    const token = match[1];
    if (token.length > this.options.maxTokenSize) throw new InvalidTokenError('ZT_TOKEN_TOO_LARGE');
    const digest = this.tokens.digest(token);
    const cached = this.tokens.get(digest);
    let principal: Principal;
    if (cached !== undefined && this.keys.isCurrent(cached.key)) {
      principal = cached.principal;
      // A future nbf or iat was refused when the token was first verified; only expiry moves.
      if (principal.token.exp <= Date.now() / 1000 - this.options.clockTolerance) {
        throw new InvalidTokenError('ZT_TOKEN_EXPIRED');
      }
    } else {
      const verified = await this.verify(request, response, token);
      principal = verified.principal;
      this.tokens.set(digest, verified);
    }
    let revoked: boolean;
    try {
      revoked = await this.revocations.isRevoked({
        jti: principal.token.jti,
        sub: principal.subject,
        iat: principal.token.iat,
      });
    } catch (error) {
      throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    }
    if (revoked) throw new InvalidTokenError('ZT_TOKEN_REVOKED');
    return principal;
  }

  /** Runs the passport-jwt strategy on a token not seen before. */
  private async verify(
    request: HttpRequestLike & RequestWithToken,
    response: unknown,
    token: string,
  ): Promise<{ principal: Principal; key: KeyObject }> {
    request[RAW_TOKEN] = token;
    try {
      const principal = await new Promise<Principal>((resolve, reject) => {
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
      });
      const key = request[VERIFYING_KEY];
      if (key === undefined) throw new InvalidTokenError();
      return { principal, key };
    } finally {
      delete request[RAW_TOKEN];
      delete request[VERIFYING_KEY];
    }
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
    if (challenge !== undefined) {
      this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
    }
  }
}
