export { ERROR_MESSAGES, type ZeroTrustErrorCode } from './messages.js';
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
  StoreFullError,
  TokenRequestError,
  RiskDeniedError,
  StepUpRequiredError,
  ZeroTrustConfigurationError,
  ZeroTrustError,
  type ZeroTrustErrorBody,
} from './zero-trust.error.js';
