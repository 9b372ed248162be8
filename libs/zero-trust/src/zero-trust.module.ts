import { Inject, Logger, Module, type OnApplicationBootstrap, type Provider } from '@nestjs/common';
import {
  APP_GUARD,
  APP_INTERCEPTOR,
  DiscoveryModule,
  DiscoveryService,
  ModuleRef,
} from '@nestjs/core';
import { AbilityFactory } from './authorization/ability.factory.js';
import {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from './authorization/authorization.guard.js';
import { AuthorizationService } from './authorization/authorization.service.js';
import { PolicyService } from './policy/policy.service.js';
import { RouteAuditService } from './routes/route-audit.service.js';
import { AuditSink } from './audit/audit-sink.interface.js';
import { AuditService } from './audit/audit.service.js';
import { auditSinkFor } from './audit/default-sink.js';
import { ZeroTrustMetrics } from './metrics/zero-trust.metrics.js';
import { requestIdInterceptorFactory } from './zero-trust.interceptor.js';
import { AuthenticationFailureLimiter } from './identity/authentication-failures.js';
import { AuthenticationGuard } from './identity/authentication.guard.js';
import { JwksKeySource } from './identity/jwks-key-source.js';
import { createJwtStrategy, JWT_STRATEGY } from './identity/jwt.strategy.js';
import { RevocationService } from './identity/revocation.service.js';
import { SenderConstraints } from './identity/sender-constraints.js';
import { VerifiedTokenCache } from './identity/verified-token.cache.js';
import {
  MAX_SAFE_TOKEN_LIFETIME,
  validateOptions,
  type ResolvedZeroTrustOptions,
} from './options/validate-options.js';
import { RevocationStore } from './stores/revocation-store.interface.js';
import { SharedStateStore } from './stores/shared-state-store.interface.js';
import { storeProviders } from './stores/store.providers.js';
import {
  REDIS_STORE_CONNECTION,
  ZERO_TRUST_OPTIONS,
  ZERO_TRUST_RATE_LIMITER,
} from './zero-trust.constants.js';
import { ABILITY_ENV_SOURCES } from './context/lazy-env.js';
import { ZERO_TRUST_RECEIVERS } from './continuous-access/receivers.js';
import { RiskEngine } from './risk/risk.engine.js';
import { firstGuard, TransportPipeline, messageProviders, onHttp } from './transports/providers.js';
import { ContextRiskGuard } from './risk/risk.guard.js';
import {
  ZERO_TRUST_MODULE_OPTIONS,
  ZeroTrustConfigurableModule,
} from './zero-trust.module-definition.js';

const providers: Provider[] = [
  {
    provide: ZERO_TRUST_OPTIONS,
    useFactory: validateOptions,
    inject: [ZERO_TRUST_MODULE_OPTIONS, ZERO_TRUST_RECEIVERS],
  },
  ...storeProviders,
  { provide: AuditSink, useFactory: auditSinkFor, inject: [ZERO_TRUST_OPTIONS, ModuleRef] },
  ZeroTrustMetrics,
  JwksKeySource,
  VerifiedTokenCache,
  SenderConstraints,
  {
    provide: JWT_STRATEGY,
    useFactory: createJwtStrategy,
    inject: [ZERO_TRUST_OPTIONS, JwksKeySource],
  },
  AbilityFactory,
  AuditService,
  AuthorizationService,
  PolicyService,
  RevocationService,
  RouteAuditService,
  AuthenticationFailureLimiter,
  AuthenticationGuard,
  AuthorizationGuard,
  RecordAuthorizationGuard,
  ...messageProviders,
  // Global guards in this order: identity, rate limit, type-level authorization, context risk,
  // then record-level authorization: no resolver (a 404) runs before any answer that does not
  // depend on the record, so a refused caller never learns whether a record exists.
  { provide: APP_GUARD, useFactory: firstGuard, inject: [AuthenticationGuard, TransportPipeline] },
  {
    // ZeroTrustThrottlerModule's guard when imported (whatever the import order), else none.
    provide: APP_GUARD,
    useFactory: onHttp,
    inject: [{ token: ZERO_TRUST_RATE_LIMITER, optional: true }],
  },
  { provide: APP_GUARD, useFactory: onHttp, inject: [AuthorizationGuard] },
  RiskEngine,
  ContextRiskGuard,
  { provide: APP_GUARD, useFactory: onHttp, inject: [ContextRiskGuard] },
  { provide: APP_GUARD, useFactory: onHttp, inject: [RecordAuthorizationGuard] },
  {
    // Risk is assessed lazily: an ability reading env.risk waits for it, the risk guard reuses it.
    provide: ABILITY_ENV_SOURCES,
    useFactory: (options: ResolvedZeroTrustOptions, engine: RiskEngine) =>
      options.risk.enabled ? [engine] : [],
    inject: [ZERO_TRUST_OPTIONS, RiskEngine],
  },
  // currentRequestId() for handlers, only when asked for (null: no interceptor at all).
  {
    provide: APP_INTERCEPTOR,
    useFactory: requestIdInterceptorFactory,
    inject: [ZERO_TRUST_OPTIONS, DiscoveryService],
  },
];

/**
 * Zero Trust for a Nest application: global guards authenticate every request with a strictly
 * verified access token and deny every route that has no explicit policy. @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers,
  exports: [
    ZERO_TRUST_OPTIONS,
    REDIS_STORE_CONNECTION,
    RevocationStore,
    SharedStateStore,
    AuditSink,
    JwksKeySource,
    AbilityFactory,
    AuditService,
    ZeroTrustMetrics,
    AuthorizationService,
    PolicyService,
    RevocationService,
    RouteAuditService,
    RiskEngine,
  ],
})
export class ZeroTrustModule extends ZeroTrustConfigurableModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('ZeroTrust');

  constructor(
    private readonly keys: JwksKeySource,
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
  ) {
    super();
  }

  /** Warms the key cache; warns about long-lived tokens and in-process state in production. */
  onApplicationBootstrap(): void {
    const { maxTokenLifetime, store, dpop } = this.options;
    if (maxTokenLifetime > MAX_SAFE_TOKEN_LIFETIME)
      this.logger.warn(
        `unsafeAllowLongLivedTokens: tokens living up to ${maxTokenLifetime} seconds are accepted; a stolen token stays usable that long`,
      );
    // What of the security state lives in process memory, in words.
    const replay = dpop !== undefined;
    const inProcess =
      store.type === 'memory'
        ? `Revocations${replay ? ' and DPoP replay entries' : ''}`
        : store.type === 'custom' && store.state === undefined && replay && 'DPoP replay entries';
    if (process.env.NODE_ENV === 'production' && inProcess)
      this.logger.warn(
        `${inProcess} live in this process only (store.type "${store.type}"): ` +
          'they do not survive a restart nor reach other instances, so a revoked token or a ' +
          'used DPoP proof is accepted again after a restart or by another instance. Use ' +
          'store.type "redis" in production.',
      );
    this.keys.refresh().catch((error?: { cause?: unknown }) => {
      const cause = error?.cause instanceof Error ? error.cause.message : 'unknown error';
      this.logger.warn(
        `The issuer's keys could not be fetched at boot (${cause}); requests will retry`,
      );
    });
  }
}
