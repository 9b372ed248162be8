import {
  Global,
  Inject,
  Injectable,
  Module,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AuditService } from '../audit/audit.service.js';
import { routePolicyOf } from '../routes/route-policy.js';
import {
  contextOf,
  getZeroTrustContext,
  type HttpRequestLike,
} from '../context/request-context.js';
import { peerAddressOf, type TrustedProxies } from '../context/client-address.js';
import { RateLimitedError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS, ZERO_TRUST_RATE_LIMITER } from '../zero-trust.constants.js';

/**
 * Who a request counts against: its verified principal (`user:alice`), else its client address
 * (give `proxies` when no guard has seen the request). @publicApi
 */
export function zeroTrustTracker(request: object, proxies?: TrustedProxies): string {
  const context = getZeroTrustContext(request);
  if (context?.principal !== undefined) return `${context.principal.kind}:${context.principal.id}`;
  const http = request as HttpRequestLike;
  const ip =
    context?.ip ?? (proxies === undefined ? peerAddressOf(http) : proxies.clientAddressOf(http));
  return `ip:${ip ?? 'unknown'}`;
}

/**
 * `@nestjs/throttler`'s guard with one budget per principal for the whole API: 429
 * `ZT_RATE_LIMITED`, audited. Install it with {@link ZeroTrustThrottlerModule}. @publicApi
 */
@Injectable()
export class ZeroTrustThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(ZERO_TRUST_OPTIONS) private readonly zeroTrust: ResolvedZeroTrustOptions,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve(zeroTrustTracker(request, this.zeroTrust.trustedProxies));
  }

  /** One key per tracker and throttler, shared by every route. */
  protected override generateKey(_: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override throwThrottlingException(execution: ExecutionContext): Promise<void> {
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const { path } = routePolicyOf(execution.getClass<Type>(), execution.getHandler() as never);
    const error = new RateLimitedError();
    this.audit.record(contextOf(request, path, this.zeroTrust.trustedProxies), {
      action: 'excess_rate_limit_exceeded',
      decision: 'deny',
      mode: 'enforce',
      code: error.code,
      reason: error.message,
    });
    return Promise.reject(error);
  }
}

/**
 * Runs {@link ZeroTrustThrottlerGuard} in the zero-trust guard chain, right after authentication
 * (not as a global guard of its own). Import it next to `ThrottlerModule.forRoot(...)`. @publicApi
 */
@Global()
@Module({
  providers: [
    ZeroTrustThrottlerGuard,
    { provide: ZERO_TRUST_RATE_LIMITER, useExisting: ZeroTrustThrottlerGuard },
  ],
  exports: [ZERO_TRUST_RATE_LIMITER],
})
export class ZeroTrustThrottlerModule {}
