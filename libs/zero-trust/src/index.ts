/**
 * nestjs-zero-trust: every request authenticated, authorized for one action on one resource,
 * and written to an audit trail.
 *
 * @packageDocumentation
 */
export { ZeroTrustModule } from './zero-trust.module.js';
export {
  ZERO_TRUST_ASYNC_OPTIONS_TYPE,
  ZERO_TRUST_MODULE_OPTIONS,
  ZERO_TRUST_OPTIONS_TYPE,
  type ZeroTrustOptionsFactory,
} from './zero-trust.module-definition.js';
export type {
  AsymmetricAlgorithm,
  AuditOptions,
  CertificateSource,
  MonitoringOptions,
  ClientRegistration,
  DpopOptions,
  JwksOptions,
  MemoryStoreLimits,
  MemoryStoreOptions,
  MtlsOptions,
  PrincipalOptions,
  RedisStoreOptions,
  ZeroTrustMode as ZeroTrustModeOption,
  ZeroTrustModuleOptions,
  ZeroTrustStoreOptions,
} from './options/zero-trust-options.interface.js';

// context
export { getZeroTrustContext, type ZeroTrustRequestContext } from './context/request-context.js';
export { TrustedProxies } from './context/client-address.js';
export { currentRequestId, REQUEST_ID_HEADER } from './context/request-id.js';

// identity
export type {
  Principal,
  PrincipalKind,
  PrincipalToken,
  TokenClaims,
} from './identity/principal.interface.js';
export { AuthenticationGuard } from './identity/authentication.guard.js';
export { JwksKeySource, type KeySetStatus } from './identity/jwks-key-source.js';
export { RevocationService } from './identity/revocation.service.js';
export type { PresentedCertificate } from './identity/mtls/service-identity.js';
export { parseSpiffeId, type SpiffeId } from './identity/mtls/spiffe-id.js';

// authorization
export type {
  AbilityDefinition,
  AbilityDefinitions,
  AbilityEnv,
  ZeroTrustAbility,
} from './authorization/ability.types.js';
export { AbilityFactory } from './authorization/ability.factory.js';
export {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from './authorization/authorization.guard.js';
export {
  AuthorizationService,
  type QueryCondition,
} from './authorization/authorization.service.js';
export {
  Authenticated,
  Can,
  Public,
  ReportOnly,
  Scopes,
  ZeroTrustMode,
} from './authorization/decorators.js';
export {
  AuthorizedResource,
  CurrentAbility,
  CurrentPrincipal,
} from './authorization/param-decorators.js';
export type {
  CanOptions,
  ResolveContext,
  ResolverFunction,
  SubjectResolver,
} from './authorization/resolver.interface.js';
export { RouteAuditService } from './authorization/route-audit.service.js';
export { routePolicyOf, type RoutePolicy } from './authorization/route-policy.js';
export { detectSubjectType } from './authorization/subject.js';

// audit
export { AuditSink } from './audit/audit-sink.interface.js';
export { AuditService } from './audit/audit.service.js';
export type {
  DecisionEvent,
  DecisionOutcome,
  DecisionRule,
  DecisionStage,
} from './audit/decision-event.interface.js';
export type { DecisionListener } from './audit/audit.service.js';
export { LoggerAuditSink } from './audit/logger-audit.sink.js';
export { ECS_VERSION, toEcsEvent, type EcsEvent } from './audit/ecs.js';
export { PinoAuditSink, type PinoLike } from './audit/sinks/pino-audit.sink.js';
export { HttpAuditSink, type HttpAuditSinkOptions } from './audit/sinks/http-audit.sink.js';
export { FileAuditSink } from './audit/sinks/file-audit.sink.js';
export { ZeroTrustMetrics } from './metrics/zero-trust.metrics.js';

// stores
export { RevocationStore } from './stores/revocation-store.interface.js';
export {
  MemoryRevocationStore,
  type MemoryRevocationStoreOptions,
} from './stores/memory/memory-revocation.store.js';
export {
  ADDRESS_KEY_PREFIX,
  keyClassOf,
  REPLAY_KEY_PREFIX,
  SharedStateStore,
  type StateKeyClass,
} from './stores/shared-state-store.interface.js';
export {
  MemorySharedStateStore,
  type MemorySharedStateStoreOptions,
} from './stores/memory/memory-shared-state.store.js';
export { RedisRevocationStore } from './stores/redis/redis-revocation.store.js';
export { RedisSharedStateStore } from './stores/redis/redis-shared-state.store.js';

// client (outgoing service-to-service calls)
export {
  ServiceTokenClient,
  type ServiceFetchInit,
  type ServiceToken,
} from './client/service-token-client.js';
export type {
  ClientTlsOptions,
  ServiceTokenClientOptions,
  SessionRefresherOptions,
  TokenRequestOptions,
} from './client/validate-client-options.js';
export {
  ZeroTrustClientModule,
  type ZeroTrustClientModuleAsyncOptions,
} from './client/zero-trust-client.module.js';
export { SessionRefresher } from './client/session-refresher.js';
export { DpopSigner } from './client/dpop-signer.js';
export { requestTokens, type TokenEndpointResponse } from './client/token-endpoint.js';

// risk
export type {
  DeviceSignalOptions,
  FailureSignalOptions,
  GeolocationSignalOptions,
  InjectionSignalOptions,
  NetworkSignalOptions,
  RiskOptions,
  UsageSignalOptions,
} from './risk/risk-options.interface.js';
export {
  combineScores,
  type RiskAssessment,
  type RiskOutcome,
  type RiskReason,
  type RiskSignal,
  type RiskSignalInput,
  type RiskVerdict,
} from './risk/risk.types.js';
export { RiskEngine, RiskSignalProvider } from './risk/risk.engine.js';
export { ContextRiskGuard } from './risk/risk.guard.js';
export { RiskPolicy, type RiskDecision, type RiskPolicyOptions } from './risk/risk-policy.js';
export { DeviceSignal, deviceFingerprint } from './risk/signals/device.signal.js';
export { FailureBurstSignal } from './risk/signals/failure-burst.signal.js';
export {
  haversineKm,
  MaxMindGeoLocator,
  type GeoLocation,
  type GeoLocator,
} from './risk/signals/geo-locator.js';
export { GeolocationSignal } from './risk/signals/geolocation.signal.js';
export {
  detectInjection,
  INJECTION_SCAN_LIMITS,
  type InjectionKind,
} from './risk/signals/injection-rules.js';
export { InjectionSignal } from './risk/signals/injection.signal.js';
export { NetworkSignal } from './risk/signals/network.signal.js';
export { inUtcWindow, UsageSignal } from './risk/signals/usage.signal.js';
export { ABILITY_ENV_SOURCES, type AbilityEnvSource } from './context/lazy-env.js';

// errors
export * from './errors/index.js';
