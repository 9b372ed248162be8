/**
 * Every stable error code the library emits, with the text shown to callers.
 *
 * The texts are safe to return in an HTTP response: they name no key, token, rule internals
 * or configuration value. Keep them in this one file so audit events, logs and responses agree.
 *
 * @publicApi
 */
export const ERROR_MESSAGES = {
  ZT_TOKEN_MISSING: 'An access token is required',
  ZT_TOKEN_MALFORMED: 'The access token is not a compact JWS',
  ZT_TOKEN_TOO_LARGE: 'The access token is too large',
  ZT_TOKEN_ALGORITHM_REJECTED: 'The token signing algorithm is not accepted',
  ZT_TOKEN_HEADER_REJECTED: 'The token header carries a parameter that is never trusted',
  ZT_TOKEN_TYPE_INVALID: 'The token is not an access token',
  ZT_TOKEN_CRIT_UNSUPPORTED: 'The token requires an unsupported extension',
  ZT_TOKEN_KEY_UNKNOWN: 'The token was not signed by a known key of the issuer',
  ZT_TOKEN_SIGNATURE_INVALID: 'The token signature is invalid',
  ZT_TOKEN_ISSUER_INVALID: 'The token was issued by another issuer',
  ZT_TOKEN_AUDIENCE_INVALID: 'The token is not meant for this resource server',
  ZT_TOKEN_EXPIRED: 'The access token has expired',
  ZT_TOKEN_NOT_YET_VALID: 'The access token is not valid yet',
  ZT_TOKEN_ISSUED_IN_FUTURE: 'The access token is issued in the future',
  ZT_TOKEN_LIFETIME_EXCEEDED: 'The access token lives longer than this resource server accepts',
  ZT_TOKEN_CLAIM_MISSING: 'The access token lacks a required claim',
  ZT_TOKEN_CLAIM_INVALID: 'The access token has a claim of the wrong type',
  ZT_TOKEN_REVOKED: 'The access token has been revoked',
  ZT_TOKEN_INVALID: 'The access token is invalid',
  ZT_CLIENT_UNKNOWN: 'The client is not a registered service or integration',
  ZT_KEYS_UNAVAILABLE: 'The signing keys of the issuer are unavailable',
  ZT_STORE_UNAVAILABLE: 'The shared state store is unavailable',
  ZT_ACCESS_DENIED: 'Access denied',
  ZT_FIELDS_DENIED: 'Access denied to one or more fields',
  ZT_POLICY_MISSING: 'This route has no access policy',
  ZT_UNAUTHENTICATED: 'Authentication is required',
  ZT_RESOURCE_NOT_FOUND: 'Resource not found',
  ZT_RESOLVER_FAILED: 'The resource could not be loaded to check access',
  ZT_POLICY_FAILED: 'The access policy could not be evaluated',
  ZT_OPTIONS_INVALID: 'Invalid ZeroTrustModule options',
  ZT_ROUTES_UNPROTECTED: 'Routes without an access policy',
  ZT_UNSUPPORTED_CONTEXT: 'This transport is not supported by the zero-trust guards',
} as const;

/**
 * A stable error code. Codes never change meaning; new ones may be added.
 *
 * @publicApi
 */
export type ZeroTrustErrorCode = keyof typeof ERROR_MESSAGES;
