/**
 * nestjs-zero-trust: every request authenticated, authorized for one action on one resource,
 * and audited. Each of `/audit`, `/risk`, `/client`, `/axios`, `/throttler`, `/health`,
 * `/continuous-access`, `/messages`, `/graphql`, `/graphql-ws`, `/websockets`, `/cerbos` and
 * `/testing` is an entry of its own.
 *
 * @packageDocumentation
 */

// module and options
export { ZeroTrustModule } from './zero-trust.module.js';
export type { ZeroTrustOptionsFactory } from './zero-trust.module-definition.js';
export type {
  ClientRegistration,
  ZeroTrustMode,
  ZeroTrustModuleOptions,
  ZeroTrustStoreOptions,
} from './options/zero-trust-options.interface.js';

// decorators
export { Authenticated, Can, Mode, Public, ReportOnly, Scopes } from './routes/decorators.js';
export { AuthorizedResource, CurrentAbility, CurrentPrincipal } from './routes/param-decorators.js';
export { RiskPolicy, type RiskPolicyOptions } from './risk/risk-policy.js';

// guards an application may extend
export { AuthenticationGuard } from './identity/authentication.guard.js';
export {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from './authorization/authorization.guard.js';
export { ContextRiskGuard } from './risk/risk.guard.js';

// principal, abilities and resolvers
export type {
  Principal,
  PrincipalKind,
  PrincipalToken,
  TokenClaims,
} from './identity/principal.interface.js';
export type {
  AbilityDefinition,
  AbilityDefinitions,
  AbilityEnv,
  ZeroTrustAbility,
} from './authorization/ability.types.js';
export type {
  CanOptions,
  ResolveContext,
  ResolverFunction,
  SubjectResolver,
} from './routes/resolver.interface.js';

// services an application injects or calls
export {
  AuthorizationService,
  type QueryCondition,
} from './authorization/authorization.service.js';
export { RevocationService } from './identity/revocation.service.js';
export * from './policy/index.js';
export { getZeroTrustContext, type ZeroTrustRequestContext } from './context/request-context.js';
export { currentRequestId } from './context/request-id.js';
export { ZeroTrustMetrics } from './metrics/zero-trust.metrics.js';

// stores: the interfaces a custom store implements, and the Redis stores
export {
  RevocationStore,
  type RevocableToken,
  type RevocationScope,
} from './stores/revocation-store.interface.js';
export {
  ADDRESS_KEY_PREFIX,
  keyClassOf,
  REPLAY_KEY_PREFIX,
  SharedStateStore,
  type StateKeyClass,
} from './stores/shared-state-store.interface.js';
export { RedisRevocationStore } from './stores/redis/redis-revocation.store.js';
export { RedisSharedStateStore } from './stores/redis/redis-shared-state.store.js';
export type { RedisStoreClient } from './scale-out/redis-topology.js';

// errors: one hierarchy with stable codes
export type { ZeroTrustErrorCode } from './errors/messages.js';
export {
  AccessDeniedError,
  DependencyUnavailableError,
  DpopError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  RateLimitedError,
  ResourceNotFoundError,
  RiskDeniedError,
  StepUpRequiredError,
  StoreFullError,
  TokenRequestError,
  ZeroTrustConfigurationError,
  ZeroTrustError,
  type ZeroTrustErrorBody,
} from './errors/zero-trust.error.js';
