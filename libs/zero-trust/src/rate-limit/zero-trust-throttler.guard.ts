import { Inject, Injectable, Module, type ExecutionContext, type Type } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerGenerateKeyFunction,
  type ThrottlerGetTrackerFunction,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AuditService } from '../audit/audit.service.js';
import { routePolicyOf } from '../authorization/route-policy.js';
import {
  contextOf,
  getZeroTrustContext,
  type HttpRequestLike,
} from '../context/request-context.js';
import { peerAddressOf, type TrustedProxies } from '../context/client-address.js';
import { RateLimitedError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/** `@nestjs/throttler`'s metadata keys (suffixed with the throttler's name). */
const THROTTLER_LIMIT = 'THROTTLER:LIMIT';
const THROTTLER_TTL = 'THROTTLER:TTL';
const THROTTLER_BLOCK_DURATION = 'THROTTLER:BLOCK_DURATION';
const THROTTLER_SKIP = 'THROTTLER:SKIP';
const THROTTLER_TRACKER = 'THROTTLER:TRACKER';
const THROTTLER_KEY_GENERATOR = 'THROTTLER:KEY_GENERATOR';

/** One throttler's settings for one route. */
interface RoutePlan {
  throttler: ThrottlerOptions;
  skip: boolean;
  limit: number;
  ttl: number;
  blockDuration: number;
  getTracker: ThrottlerGetTrackerFunction;
  generateKey: ThrottlerGenerateKeyFunction;
}

/**
 * Who a request counts against: its verified principal (`user:alice`, `service:billing-worker`)
 * whatever address it comes from, else its client address (`ip:203.0.113.7`, through trusted
 * proxies only: give `proxies` when no guard has seen the request). Needs the authentication
 * guard to have run first.
 *
 * @publicApi
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
 * `@nestjs/throttler`'s guard, keyed by principal rather than by address: one budget per
 * principal for the whole API (not per route), so a caller cannot multiply it by spreading
 * requests over routes or addresses. A refusal answers 429 `ZT_RATE_LIMITED` with `Retry-After`
 * and is recorded as the audit event `excess_rate_limit_exceeded`.
 *
 * It must run after the library's authentication guard. Nest runs global guards in the order
 * their modules are scanned (the root module first, then its imports depth-first), so register
 * it through {@link ZeroTrustThrottlerModule} imported after `ZeroTrustModule`. If it ever meets a
 * protected route before the authentication guard, it warns once and counts by address.
 * @publicApi
 */
@Injectable()
export class ZeroTrustThrottlerGuard extends ThrottlerGuard {
  private warned = false;
  /**
   * What each route's `@Throttle` / `@SkipThrottle` metadata resolves to, read once per handler
   * (the base guard reads five metadata keys per throttler on every request). `null` when a
   * value is a function of the request: such routes take the base guard's path every time.
   */
  private readonly plans = new WeakMap<object, WeakMap<object, readonly RoutePlan[] | null>>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(ZERO_TRUST_OPTIONS) private readonly zeroTrust: ResolvedZeroTrustOptions,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (!this.warned && execution.getType() === 'http') {
      const request = execution.switchToHttp().getRequest<object>();
      const policy = routePolicyOf(
        execution.getClass<Type>(),
        execution.getHandler() as (...args: never[]) => unknown,
      );
      if (!policy.isPublic && getZeroTrustContext(request)?.principal === undefined) {
        this.warned = true;
        this.logger.warn(
          'ZeroTrustThrottlerGuard ran before authentication: import ZeroTrustThrottlerModule ' +
            'after ZeroTrustModule. Counting by client address meanwhile.',
        );
      }
    }
    const plan = this.planFor(execution);
    if (plan === null || (await this.shouldSkip(execution))) {
      return plan === null ? super.canActivate(execution) : true;
    }
    for (const step of plan) {
      // As the base guard: the throttler's own skipIf, else the module's.
      const skipIf = step.throttler.skipIf || this.commonOptions.skipIf;
      if (step.skip || skipIf?.(execution)) continue;
      await this.handleRequest({
        context: execution,
        limit: step.limit,
        ttl: step.ttl,
        throttler: step.throttler,
        blockDuration: step.blockDuration,
        getTracker: step.getTracker,
        generateKey: step.generateKey,
      });
    }
    return true;
  }

  /** The route's resolved throttler settings, in the base guard's order; `null` if dynamic. */
  private planFor(execution: ExecutionContext): readonly RoutePlan[] | null {
    const handler = execution.getHandler();
    const controller = execution.getClass();
    // By handler and class: an inherited handler may sit under another class's @Throttle.
    let byClass = this.plans.get(handler);
    const known = byClass?.get(controller);
    if (known !== undefined) return known;
    const targets = [handler, controller];
    const read = (key: string, name: string): unknown =>
      this.reflector.getAllAndOverride<unknown>(`${key}${name}`, targets);
    let plan: RoutePlan[] | null = [];
    for (const throttler of this.throttlers) {
      const name = throttler.name ?? 'default';
      const limit = read(THROTTLER_LIMIT, name) ?? throttler.limit;
      const ttl = read(THROTTLER_TTL, name) ?? throttler.ttl;
      const blockDuration = read(THROTTLER_BLOCK_DURATION, name) ?? throttler.blockDuration ?? ttl;
      if (
        typeof limit !== 'number' ||
        typeof ttl !== 'number' ||
        typeof blockDuration !== 'number'
      ) {
        plan = null; // a function of the request, or a value the base guard reports
        break;
      }
      plan.push({
        throttler,
        skip: Boolean(read(THROTTLER_SKIP, name)), // as the base guard: any truthy value
        limit,
        ttl,
        blockDuration,
        getTracker: (read(THROTTLER_TRACKER, name) ??
          throttler.getTracker ??
          this.commonOptions.getTracker) as ThrottlerGetTrackerFunction,
        generateKey: (read(THROTTLER_KEY_GENERATOR, name) ??
          throttler.generateKey ??
          this.commonOptions.generateKey) as ThrottlerGenerateKeyFunction,
      });
    }
    if (byClass === undefined) {
      byClass = new WeakMap();
      this.plans.set(handler, byClass);
    }
    byClass.set(controller, plan);
    return plan;
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve(zeroTrustTracker(request, this.zeroTrust.trustedProxies));
  }

  /** One key per tracker and throttler, shared by every route. */
  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    return `${name}:${tracker}`;
  }

  protected override throwThrottlingException(
    execution: ExecutionContext,
    _detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const policy = routePolicyOf(
      execution.getClass<Type>(),
      execution.getHandler() as (...args: never[]) => unknown,
    );
    const error = new RateLimitedError();
    this.audit.record(contextOf(request, policy.path, this.zeroTrust.trustedProxies), {
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
 * Installs {@link ZeroTrustThrottlerGuard} as a global guard. Import it after `ZeroTrustModule`
 * (so it runs after authentication) and next to `ThrottlerModule.forRoot(...)`.
 *
 * @example
 * ```ts
 * imports: [
 *   ZeroTrustModule.forRoot({ ... }),
 *   ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 300 }] }),
 *   ZeroTrustThrottlerModule,
 * ]
 * ```
 * @publicApi
 */
@Module({ providers: [{ provide: APP_GUARD, useClass: ZeroTrustThrottlerGuard }] })
export class ZeroTrustThrottlerModule {}
