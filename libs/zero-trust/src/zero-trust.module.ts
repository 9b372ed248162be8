import { Logger, Module, type OnApplicationBootstrap, type Provider } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AbilityFactory } from './authorization/ability.factory.js';
import { AuthorizationGuard } from './authorization/authorization.guard.js';
import { AuthorizationService } from './authorization/authorization.service.js';
import { RouteAuditService } from './authorization/route-audit.service.js';
import { AuditSink } from './audit/audit-sink.interface.js';
import { AuditService } from './audit/audit.service.js';
import { LoggerAuditSink } from './audit/logger-audit.sink.js';
import { AuthenticationGuard } from './identity/authentication.guard.js';
import { JwksKeySource } from './identity/jwks-key-source.js';
import { ZeroTrustJwtStrategy } from './identity/jwt.strategy.js';
import { RevocationService } from './identity/revocation.service.js';
import { VerifiedTokenCache } from './identity/verified-token.cache.js';
import { validateOptions, type ResolvedZeroTrustOptions } from './options/validate-options.js';
import { MemoryRevocationStore } from './stores/memory/memory-revocation.store.js';
import { RevocationStore } from './stores/revocation-store.interface.js';
import { ZERO_TRUST_OPTIONS } from './zero-trust.constants.js';
import {
  ZERO_TRUST_MODULE_OPTIONS,
  ZeroTrustConfigurableModule,
} from './zero-trust.module-definition.js';

const providers: Provider[] = [
  { provide: ZERO_TRUST_OPTIONS, useFactory: validateOptions, inject: [ZERO_TRUST_MODULE_OPTIONS] },
  {
    provide: RevocationStore,
    useFactory: (options: ResolvedZeroTrustOptions) =>
      options.store.type === 'custom' ? options.store.revocations : new MemoryRevocationStore(),
    inject: [ZERO_TRUST_OPTIONS],
  },
  {
    provide: AuditSink,
    useFactory: (options: ResolvedZeroTrustOptions) => options.audit.sink ?? new LoggerAuditSink(),
    inject: [ZERO_TRUST_OPTIONS],
  },
  JwksKeySource,
  VerifiedTokenCache,
  ZeroTrustJwtStrategy,
  AbilityFactory,
  AuditService,
  AuthorizationService,
  RevocationService,
  RouteAuditService,
  AuthenticationGuard,
  AuthorizationGuard,
  // Global guards run in this order: identity first, then authorization.
  { provide: APP_GUARD, useExisting: AuthenticationGuard },
  { provide: APP_GUARD, useExisting: AuthorizationGuard },
];

/**
 * Zero Trust for a Nest application. Installs global guards that authenticate every request
 * with a strictly verified access token and deny every route that has no explicit policy
 * (`@Public`, `@Authenticated` or `@Can`).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ZeroTrustModule.forRoot({
 *       issuer: 'https://idp.example.com',
 *       audience: 'https://api.example.com',
 *       principals: { services: { 'billing-worker': { roles: ['billing'] } } },
 *       abilities: { user: (p, env, { can }) => { if (p.roles.includes('admin')) can('manage', 'all'); } },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers,
  exports: [
    ZERO_TRUST_OPTIONS,
    RevocationStore,
    AuditSink,
    JwksKeySource,
    AbilityFactory,
    AuditService,
    AuthorizationService,
    RevocationService,
    RouteAuditService,
  ],
})
export class ZeroTrustModule extends ZeroTrustConfigurableModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('ZeroTrust');

  constructor(private readonly keys: JwksKeySource) {
    super();
  }

  /** Warms the key cache; an unreachable issuer is logged, and requests retry later. */
  onApplicationBootstrap(): void {
    this.keys.refresh().catch((error: unknown) => {
      const cause =
        error instanceof Error && error.cause instanceof Error
          ? error.cause.message
          : 'unknown error';
      this.logger.warn(
        `The issuer's keys could not be fetched at boot (${cause}); requests will retry`,
      );
    });
  }
}
