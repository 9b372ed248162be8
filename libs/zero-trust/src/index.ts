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
  ClientRegistration,
  JwksOptions,
  PrincipalOptions,
  ZeroTrustMode as ZeroTrustModeOption,
  ZeroTrustModuleOptions,
  ZeroTrustStoreOptions,
} from './options/zero-trust-options.interface.js';

// context
export { getZeroTrustContext, type ZeroTrustRequestContext } from './context/request-context.js';

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

// authorization
export type {
  AbilityDefinition,
  AbilityDefinitions,
  AbilityEnv,
  ZeroTrustAbility,
} from './authorization/ability.types.js';
export { AbilityFactory } from './authorization/ability.factory.js';
export { AuthorizationGuard } from './authorization/authorization.guard.js';
export {
  AuthorizationService,
  type QueryCondition,
} from './authorization/authorization.service.js';
export {
  Authenticated,
  Can,
  Public,
  ReportOnly,
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
export type { DecisionEvent, DecisionOutcome } from './audit/decision-event.interface.js';
export { LoggerAuditSink } from './audit/logger-audit.sink.js';

// stores
export { RevocationStore } from './stores/revocation-store.interface.js';
export { MemoryRevocationStore } from './stores/memory/memory-revocation.store.js';

// errors
export * from './errors/index.js';
