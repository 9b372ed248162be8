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
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { routePolicyOf } from '../routes/route-policy.js';
import {
  contextOf,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import {
  InvalidTokenError,
  RateLimitedError,
  StoreFullError,
  ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { RevocationStore } from '../stores/revocation-store.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AuthenticationFailureLimiter } from './authentication-failures.js';
import { JwksKeySource } from './jwks-key-source.js';
import { JWT_STRATEGY, toTokenError, type TokenAttempt } from './jwt.strategy.js';
import type { Principal } from './principal.interface.js';
import { storeCall } from './revocation.service.js';
import { SenderConstraints } from './sender-constraints.js';
import { VerifiedTokenCache, type VerifiedToken } from './verified-token.cache.js';

/** The OWASP audit action of a refusal, when not `authn_token_invalid`. */
const REFUSAL_ACTIONS: Partial<Record<ZeroTrustErrorCode, string>> = {
  ZT_RATE_LIMITED: 'excess_rate_limit_exceeded',
  ZT_TOKEN_MISSING: 'authn_token_missing',
  ZT_TOKEN_REVOKED: 'authn_token_revoked',
  ZT_DPOP_REPLAY: 'authn_token_reuse',
  ZT_XFCC_UNTRUSTED: 'malicious_extraneous',
  ZT_AMBIGUOUS_CREDENTIALS: 'malicious_extraneous',
};

/** Global guard, first of the pipeline: routes not `@Public()` need a verified token. @publicApi */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    @Inject(JWT_STRATEGY) private readonly strategy: { readonly name: string },
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly tokens: VerifiedTokenCache,
    private readonly keys: JwksKeySource,
    @Inject(RevocationStore) private readonly revocations: RevocationStore,
    private readonly senderConstraints: SenderConstraints,
    private readonly metrics: ZeroTrustMetrics,
    private readonly failures: AuthenticationFailureLimiter,
  ) {}

  /** Authenticates the request (a `@Public()` route needs no token). */
  async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (execution.getType() !== 'http') throw new ZeroTrustError('ZT_UNSUPPORTED_CONTEXT', 403);
    const policy = routePolicyOf(
      execution.getClass<Type>(),
      execution.getHandler() as (...args: never[]) => unknown,
    );
    const http = execution.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse<unknown>();
    const context = contextOf(request, policy.path, this.options.trustedProxies);
    this.adapterHost.httpAdapter?.setHeader(response, 'X-Request-Id', context.requestId);
    // Forwarding headers that could not be followed are recorded once, on every route.
    const problem = context.forwardingProblem;
    context.forwardingProblem = undefined;
    if (problem !== undefined)
      this.audit.record(context, {
        action: 'malicious_extraneous',
        decision: 'allow',
        mode: 'enforce',
        code: 'ZT_FORWARDED_INVALID',
        reason: problem,
      });
    if (policy.isPublic) return true;
    this.audit.finishOnClose(context, response);
    const principal = await this.authenticate(request, response).catch(async (caught: unknown) => {
      throw await this.refuse(request, response, context, caught);
    });
    context.principal = principal;
    request.user = principal;
    this.audit.record(context, { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' });
    return true;
  }

  /**
   * Extracts and verifies the access token (passport-jwt the first time, then the cache). Expiry,
   * key still published, revocation and sender constraints are checked on every request.
   */
  protected async authenticate(request: HttpRequestLike, _response: unknown): Promise<Principal> {
    const presented = this.senderConstraints.credentials(request);
    const { token } = presented;
    if (token.length > this.options.maxTokenSize) throw new InvalidTokenError('ZT_TOKEN_TOO_LARGE');
    const digest = this.tokens.digest(token);
    let verified = this.tokens.get(digest);
    if (verified !== undefined && this.keys.isCurrent(verified.key)) {
      // A future nbf or iat was refused when the token was first verified; only expiry moves.
      if (verified.principal.token.exp <= Date.now() / 1000 - this.options.clockTolerance)
        throw new InvalidTokenError('ZT_TOKEN_EXPIRED');
    } else {
      verified = await this.verify(token);
      this.tokens.set(digest, verified);
    }
    const { principal } = verified;
    const { jti, iat, authTime, sid, grant } = principal.token;
    const revoked = await storeCall(
      () => this.revocations.isRevoked({ jti, sub: principal.subject, iat, authTime, sid, grant }),
      this.metrics,
      'revocation',
    );
    if (revoked) throw new InvalidTokenError('ZT_TOKEN_REVOKED');
    await this.senderConstraints.check(request, presented, principal);
    return principal;
  }

  /** Runs this module's passport-jwt strategy, through passport, on a token not seen before. */
  private verify(token: string): Promise<VerifiedToken> {
    const started = performance.now();
    const verified = new Promise<VerifiedToken>((resolve, reject) => {
      const attempt: TokenAttempt = { token };
      passport.authenticate(
        this.strategy.name,
        { session: false },
        (error: unknown, user: VerifiedToken | false, failure: unknown) => {
          if (error) reject(error);
          else if (user) resolve(user);
          else reject(failure ?? new InvalidTokenError());
        },
      )(attempt, {}, reject);
    });
    const observe = (result: 'success' | 'failure') => (): void =>
      this.metrics.observeVerification((performance.now() - started) / 1000, result);
    verified.then(observe('success'), observe('failure'));
    return verified;
  }

  /** Records a refusal and returns the error to answer with (maybe 429, see the limiter). */
  private async refuse(
    request: HttpRequestLike,
    response: unknown,
    context: ZeroTrustRequestContext,
    caught: unknown,
  ): Promise<ZeroTrustError> {
    const refused = this.senderConstraints.challengeFor(request, toTokenError(caught));
    const error = await this.failures.answerTo(context, refused);
    this.audit.record(context, {
      action: REFUSAL_ACTIONS[error.code] ?? 'authn_token_invalid',
      decision: 'deny',
      mode: 'enforce',
      code: error.code,
      reason: error.message,
    });
    if (error.challenge !== undefined)
      this.adapterHost.httpAdapter?.setHeader(response, 'WWW-Authenticate', error.challenge);
    // Over the failure limit, or a full replay store (which frees room as entries expire).
    if (
      (error instanceof RateLimitedError || error instanceof StoreFullError) &&
      error.retryAfter !== undefined
    )
      this.adapterHost.httpAdapter?.setHeader(response, 'Retry-After', String(error.retryAfter));
    return error;
  }
}
