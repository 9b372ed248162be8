export { ERROR_MESSAGES, type ZeroTrustErrorCode } from './messages.js';
export {
  AccessDeniedError,
  DependencyUnavailableError,
  InvalidTokenError,
  MissingTokenError,
  ResourceNotFoundError,
  ZeroTrustConfigurationError,
  ZeroTrustError,
  type ZeroTrustErrorBody,
} from './zero-trust.error.js';
