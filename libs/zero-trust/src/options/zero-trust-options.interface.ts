import type { AbilityDefinitions } from '../authorization/ability.types.js';
import type { AuditSink } from '../audit/audit-sink.interface.js';
import type { Principal, TokenClaims } from '../identity/principal.interface.js';
import type { RevocationStore } from '../stores/revocation-store.interface.js';

/**
 * Whether authorization denies are enforced or only recorded.
 *
 * @publicApi
 */
export type ZeroTrustMode = 'enforce' | 'report-only';

/**
 * Asymmetric JWS algorithms the library can verify. HMAC algorithms are never accepted: a
 * resource server must not share a signing secret with its issuer.
 *
 * @publicApi
 */
export type AsymmetricAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/**
 * A registered service or integration: one OAuth client, with its own identity.
 *
 * @publicApi
 */
export interface ClientRegistration {
  /** Roles granted to this client (its ability definition reads them). @default [] */
  roles?: string[];
  /** Attributes copied onto the principal. @default {} */
  attributes?: Record<string, unknown>;
}

/**
 * How verified claims become a {@link Principal}.
 *
 * @publicApi
 */
export interface PrincipalOptions {
  /**
   * Your own services, by OAuth `client_id`. A client-credentials token (its `sub` is its
   * `client_id`) from a client listed neither here nor in `integrations` is refused.
   * @default {}
   */
  services?: Record<string, ClientRegistration>;
  /** External integrations, by OAuth `client_id`. @default {} */
  integrations?: Record<string, ClientRegistration>;
  /** Claim holding a user's roles (an array of strings or a space-separated string). @default 'roles' */
  rolesClaim?: string;
  /**
   * Adds application attributes to a principal from its verified claims.
   * Runs once per verified token; must not throw for a well-formed token.
   */
  attributes?: (claims: TokenClaims, principal: Principal) => Record<string, unknown>;
}

/**
 * Timing of the issuer's key set (JWKS) cache. All values in seconds.
 *
 * @publicApi
 */
export interface JwksOptions {
  /** Minimum time between two fetches triggered by an unknown `kid`. @default 30 */
  cooldown?: number;
  /** Time after which the key set is refreshed in the background. @default 600 */
  maxAge?: number;
  /** Timeout of one fetch of the discovery document or the key set. @default 5 */
  timeout?: number;
}

/**
 * Where shared state lives. In-memory is the default; a Redis store comes with a later release.
 *
 * @publicApi
 */
export type ZeroTrustStoreOptions =
  | { type: 'memory' }
  | {
      type: 'custom';
      /** Your implementation of the revocation store. */
      revocations: RevocationStore;
    };

/**
 * Audit settings.
 *
 * @publicApi
 */
export interface AuditOptions {
  /** Where decision events go. @default one JSON line per event through the Nest logger */
  sink?: AuditSink;
  /** Whether allow decisions are emitted too, not only denies and failures. @default true */
  allows?: boolean;
}

/**
 * Options of {@link ZeroTrustModule}. Validated at boot; every problem is reported at once.
 *
 * @publicApi
 */
export interface ZeroTrustModuleOptions {
  /** The issuer identifier, compared exactly with the token's `iss` (e.g. `https://idp.example.com`). */
  issuer: string;
  /**
   * The issuer's JWKS URL. When omitted, it is read from the issuer's OpenID Connect discovery
   * document (`<issuer>/.well-known/openid-configuration`). HTTPS is required except on loopback.
   */
  jwksUri?: string;
  /** This resource server's identifier(s): the token's `aud` must contain one of them. */
  audience: string | string[];
  /** Accepted signing algorithms. @default ['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512'] */
  algorithms?: AsymmetricAlgorithm[];
  /** Accepted `typ` header values (RFC 9068). Add `''` to accept tokens without `typ`. @default ['at+jwt'] */
  tokenTypes?: string[];
  /** Maximum `exp - iat`, in seconds, even for a correctly signed token. @default 900 */
  maxTokenLifetime?: number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. @default 5 */
  clockTolerance?: number;
  /** Maximum size of a token, in bytes, checked before any parsing. @default 8192 */
  maxTokenSize?: number;
  /** Claims required in addition to `exp`, `iat`, `sub` and `jti`. @default [] */
  requiredClaims?: string[];
  /** Key set cache timing. */
  jwks?: JwksOptions;
  /** How claims map to a principal. */
  principals?: PrincipalOptions;
  /** What each kind of principal may do. */
  abilities?: AbilityDefinitions;
  /**
   * Version of your policies. Cached abilities are keyed by it: change it when the
   * definitions' inputs change outside the token (e.g. roles loaded from a database).
   * @default '1'
   */
  policyVersion?: string;
  /**
   * Bound of the verified-token cache: a token seen before skips signature verification (never
   * expiry, key and revocation checks). `max: 0` turns it off. @default { max: 10000 }
   */
  tokenCache?: { max?: number };
  /** Bound of the built-ability cache. @default { max: 10000, ttl: 300 } (ttl in seconds) */
  abilityCache?: { max?: number; ttl?: number };
  /** `enforce` refuses denied requests; `report-only` records "would deny" and lets them through. @default 'enforce' */
  mode?: ZeroTrustMode;
  /** Stop the boot when a route has no `@Public`, `@Authenticated` or `@Can`. @default true */
  strictRouteAudit?: boolean;
  /** Shared state. @default { type: 'memory' } */
  store?: ZeroTrustStoreOptions;
  /** Decision events. */
  audit?: AuditOptions;
}
