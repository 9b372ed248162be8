import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { SharedStateStore, ZeroTrustModule } from 'nestjs-zero-trust';
import { ZeroTrustHealthIndicator } from 'nestjs-zero-trust/health';
import { GRPC } from '@cerbos/grpc';
import { CerbosHealthIndicator, CerbosModule } from 'nestjs-zero-trust/cerbos';
import { SharedStateThrottlerStorage, ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
import { IDP_ADMIN, RevocationsController } from './admin/revocations.controller.js';
import {
  DEMO_GEO_DATABASE,
  DEMO_LOGOUT_AUDIENCE,
  DEMO_PUBLIC_URLS,
  DEMO_RATE_LIMIT_PER_MINUTE,
  DEMO_SSF_AUDIENCE,
  type DemoConfig,
} from './config.js';
import { HealthController } from './health/health.controller.js';
import { InvoiceRepository } from './invoices/invoice.repository.js';
import { InvoiceResolver } from './invoices/invoice.resolver.js';
import { InvoiceTransitionResolver } from './invoices/invoice-transition.resolver.js';
import { InvoicesController } from './invoices/invoices.controller.js';
import { INVOICES_TYPE_DEFS, InvoicesGraphql } from './invoices/invoices.graphql.js';
import { InvoiceUpdatesGateway } from './invoices/invoice-updates.gateway.js';
import { MeController } from './me/me.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { PaymentEventsController, PaymentNotices } from './payments/payment-events.js';
import { PaymentResolver } from './payments/payment.resolver.js';
import { PaymentsController } from './payments/payments.controller.js';
import { DEMO_MFA_ACR, DEMO_SERVICES, demoAbilities } from './policies.js';
import { ReportsController } from './reports/reports.controller.js';

/** The demo invoicing API, wired to the zero-trust module. */
@Module({})
export class AppModule {
  static register(config: DemoConfig): DynamicModule {
    const access = config.continuousAccess;
    const risky = config.riskMode !== undefined && config.riskMode !== 'off';
    return {
      module: AppModule,
      imports: [
        TerminusModule,
        // JSON logs on stdout; the zero-trust decision records (ECS) go through it by default.
        // pino-http runs per request only for access logs (ACCESS_LOG=on): the audit trail
        // already has a line per request, and nothing else here logs through a request logger.
        LoggerModule.forRoot({
          ...(config.accessLog === true ? {} : { forRoutes: [] }),
          pinoHttp: [
            {
              level: config.logLevel ?? 'silent',
              autoLogging: config.accessLog === true,
              // Never the Authorization header or cookies: only what identifies the request.
              serializers: {
                req: (req: { id?: unknown; method?: string; url?: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: req.url?.split('?')[0],
                }),
              },
            },
            // Synchronous: an audit line is on stdout when its write returns, none waits in
            // memory to be lost in a crash. (pino's default, an asynchronous destination, queues
            // in memory without bound.)
            pino.destination({ dest: 1, sync: true }),
          ],
        }),
        ZeroTrustModule.forRoot({
          // The IdP's logouts and security events (CAEP needs risk: see docs/continuous-access.md).
          receivers:
            access === undefined
              ? {}
              : {
                  backchannelLogout: '/oidc/backchannel-logout',
                  ...(risky ? { sharedSignals: '/ssf/events' } : {}),
                },
          ...(access === undefined
            ? {}
            : {
                continuousAccess: {
                  backchannelLogout: { audience: DEMO_LOGOUT_AUDIENCE },
                  ...(risky
                    ? {
                        sharedSignals: {
                          issuer: config.issuer,
                          jwksUri: `${config.issuer}/ssf/jwks`,
                          audience: DEMO_SSF_AUDIENCE,
                          authorization: access.pushAuthorization,
                        },
                      }
                    : {}),
                },
              }),
          issuer: config.issuer,
          audience: config.audience,
          mode: config.mode,
          // billing-worker's payment.recorded over NATS, when NATS_URL is set (payment-events.ts).
          messages: {},
          // With risk off (tests of the other layers), the step-up routes' @RiskPolicy cannot
          // apply: the route audit then warns about them instead of stopping the boot.
          ...(config.riskMode === undefined || config.riskMode === 'off'
            ? { strictRouteAudit: false }
            : {}),
          principals: { services: DEMO_SERVICES },
          abilities: demoAbilities({ reportsWindow: config.reportsWindow }),
          // All shared state (revocations, rate counts) in Redis when REDIS_URL is set.
          store:
            config.redisUrl === undefined
              ? { type: 'memory' }
              : { type: 'redis', url: config.redisUrl, keyPrefix: config.redisKeyPrefix },
          // Services prove who they are with a certificate (SPIFFE ID spiffe://demo.local/<name>)
          // on the mTLS listener; certificate-bound tokens (cnf.x5t#S256) need that certificate.
          mtls: { trustDomain: 'demo.local', source: 'socket' },
          // DPoP-bound tokens (cnf.jkt) are accepted with a valid proof; plain bearer stays allowed.
          // A proof must name one of the API's public URLs, never whatever Host a request says.
          dpop: { publicUrl: [...(config.publicUrls ?? DEMO_PUBLIC_URLS)] },
          audit: {
            serviceName: 'demo-api',
            ...(config.auditAllows !== undefined && config.auditAllows !== 1
              ? { allows: config.auditAllows === 0 ? false : { sampleRate: config.auditAllows } }
              : {}),
          },
          monitoring: { explainDenials: config.explainDenials ?? false },
          ...(config.authFailuresPerMinute !== undefined
            ? { authenticationFailures: { max: config.authFailuresPerMinute, window: 60 } }
            : {}),
          // Behind a local proxy (or curl with X-Forwarded-For) the client address is believed.
          trustedProxies: ['loopback'],
          ...(config.forwardedHeader === undefined
            ? {}
            : { forwardedHeader: config.forwardedHeader }),
          ...(config.riskMode === undefined || config.riskMode === 'off'
            ? {}
            : {
                risk: {
                  mode: config.riskMode,
                  stepUp: { acr: DEMO_MFA_ACR, maxAge: 300 },
                  geolocation: { database: config.geoDatabase ?? DEMO_GEO_DATABASE },
                  usage: { learningRequests: 20 },
                  // A principal's own refusals (20 in 5 minutes): never those of its address,
                  // which every local process shares here.
                  failures: { threshold: 20 },
                },
              }),
          ...(config.tokenCacheMax !== undefined
            ? { tokenCache: { max: config.tokenCacheMax } }
            : {}),
          ...(config.abilityCacheMax !== undefined
            ? { abilityCache: { max: config.abilityCacheMax } }
            : {}),
        }),
        // Rate limits per principal, counted in the zero-trust shared state store.
        ThrottlerModule.forRootAsync({
          inject: [SharedStateStore],
          useFactory: (store: SharedStateStore) => ({
            throttlers: [
              { ttl: 60_000, limit: config.rateLimitPerMinute ?? DEMO_RATE_LIMIT_PER_MINUTE },
            ],
            storage: new SharedStateThrottlerStorage(store),
          }),
        }),
        // Runs in the zero-trust guard chain, right after authentication (any import order).
        ZeroTrustThrottlerModule,
        // The invoices at /graphql under the REST routes' policies (docs/graphql.md).
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs: INVOICES_TYPE_DEFS,
          path: '/graphql',
          // The schema is not for anyone who asks: no introspection, no GraphiQL page.
          introspection: false,
          graphiql: false,
          includeStacktraceInErrorResponses: false,
          // An operation without a valid token answers 401 and the challenge, as REST does.
          preserveHttpStatusForExecutionErrors: false,
          // A @ResolveField with a policy of its own is decided (the boot refuses it otherwise).
          fieldResolverEnhancers: ['guards'],
        }),
        // POLICY_ENGINE=cerbos: the Cerbos PDP decides every @Can (apps/demo-api/cerbos/policies).
        ...(config.cerbos === undefined
          ? []
          : [
              CerbosModule.forRoot({
                client: new GRPC(config.cerbos.grpc, { tls: false }),
                ...(config.cerbos.timeout === undefined ? {} : { timeout: config.cerbos.timeout }),
              }),
            ]),
      ],
      controllers: [
        HealthController,
        MetricsController,
        MeController,
        InvoicesController,
        PaymentsController,
        PaymentEventsController,
        ReportsController,
        RevocationsController,
      ],
      providers: [
        InvoiceRepository,
        InvoiceResolver,
        InvoiceTransitionResolver,
        InvoicesGraphql,
        PaymentNotices,
        InvoiceUpdatesGateway,
        PaymentResolver,
        ZeroTrustHealthIndicator,
        ...(config.cerbos === undefined ? [] : [CerbosHealthIndicator]),
        {
          provide: IDP_ADMIN,
          useValue:
            access?.idpAdminSecret === undefined
              ? undefined
              : { issuer: config.issuer, secret: access.idpAdminSecret },
        },
      ],
    };
  }
}
