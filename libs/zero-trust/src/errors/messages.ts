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
  ZT_AMBIGUOUS_CREDENTIALS:
    'The request presents more than one credential: send one access token, in one Authorization header',
  ZT_TOKEN_METHOD_UNSUPPORTED:
    'Access tokens are accepted in the Authorization header only, not in the query or the body',
  ZT_CLIENT_UNKNOWN: 'The client is not a registered service or integration',
  ZT_CLIENT_MISMATCH: 'The token names a registered service but was issued to another client',
  ZT_KEYS_UNAVAILABLE: 'The signing keys of the issuer are unavailable',
  ZT_STORE_UNAVAILABLE: 'The shared state store is unavailable',
  ZT_STORE_FULL: 'The security state store is full; try again later',
  ZT_RATE_LIMITED: 'Too many requests',
  ZT_ACCESS_DENIED: 'Access denied',
  ZT_INSUFFICIENT_SCOPE: 'The access token lacks a scope this route requires',
  ZT_FIELDS_DENIED: 'Access denied to one or more fields',
  ZT_POLICY_MISSING: 'This route has no access policy',
  ZT_UNAUTHENTICATED: 'Authentication is required',
  ZT_RESOURCE_NOT_FOUND: 'Resource not found',
  ZT_RESOLVER_FAILED: 'The resource could not be loaded to check access',
  ZT_POLICY_FAILED: 'The access policy could not be evaluated',
  ZT_OPTIONS_INVALID: 'Invalid ZeroTrustModule options',
  ZT_ROUTES_UNPROTECTED: 'Routes without an access policy',
  ZT_ROUTE_POLICY_INVALID: 'Routes whose access policy is contradictory or incomplete',
  ZT_UNSUPPORTED_CONTEXT: 'This transport is not supported by the zero-trust guards',
  ZT_CERTIFICATE_REQUIRED: 'A client certificate is required',
  ZT_CERTIFICATE_UNTRUSTED: 'The client certificate is not trusted',
  ZT_CERTIFICATE_MISMATCH: 'The access token is bound to another client certificate',
  ZT_CERTIFICATE_SERVICE_MISMATCH:
    'The client certificate belongs to another service than the token',
  ZT_SPIFFE_ID_INVALID:
    'The client certificate does not carry one valid SPIFFE ID of this trust domain',
  ZT_XFCC_UNTRUSTED: 'A forwarded client certificate was sent by an untrusted peer',
  ZT_FORWARDED_INVALID:
    "The forwarding header could not be followed to the client: its address is the last trusted proxy's",
  ZT_XFCC_MALFORMED: 'The forwarded client certificate header is malformed',
  ZT_DPOP_PROOF_MISSING: 'A DPoP proof is required',
  ZT_DPOP_PROOF_INVALID: 'The DPoP proof is invalid',
  ZT_DPOP_REPLAY: 'The DPoP proof has already been used',
  ZT_DPOP_BINDING_MISMATCH: 'The DPoP proof key is not the key the access token is bound to',
  ZT_DPOP_TOKEN_UNBOUND: 'The access token is not bound to a DPoP key',
  ZT_DPOP_BOUND_TOKEN_AS_BEARER: 'The access token is DPoP-bound: present it with the DPoP scheme',
  ZT_TOKEN_ENDPOINT_UNAVAILABLE: 'The token endpoint of the identity provider is unavailable',
  ZT_TOKEN_REQUEST_REFUSED: 'The identity provider refused the token request',
  ZT_RISK_DENIED: 'The request was refused because of its risk',
  ZT_STEP_UP_REQUIRED: 'A recent, stronger authentication is required for this request',
  ZT_RISK_UNAVAILABLE: 'The risk of the request could not be assessed',
} as const;

/** A stable error code. Codes never change meaning; new ones may be added. @publicApi */
export type ZeroTrustErrorCode = keyof typeof ERROR_MESSAGES;
