export { ERROR_MESSAGES, type ZeroTrustErrorCode } from './messages.js';
export {
  AccessDeniedError,
  DependencyUnavailableError,
  DpopError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  RateLimitedError,
  ResourceNotFoundError,
  TokenRequestError,
  RiskDeniedError,
  StepUpRequiredError,
  ZeroTrustConfigurationError,
  ZeroTrustError,
  type ZeroTrustErrorBody,
} from './zero-trust.error.js';
