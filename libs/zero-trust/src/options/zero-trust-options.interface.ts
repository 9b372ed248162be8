import type { Redis } from 'ioredis';
import type { AbilityDefinitions } from '../authorization/ability.types.js';
import type { Registry } from 'prom-client';
import type { AuditSink } from '../audit/audit-sink.interface.js';
import type { RiskOptions } from '../risk/risk-options.interface.js';
import type { Principal, TokenClaims } from '../identity/principal.interface.js';
import type { RevocationStore } from '../stores/revocation-store.interface.js';
import type { SharedStateStore } from '../stores/shared-state-store.interface.js';

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
  /**
   * Maximum age of the cached key set. It is refreshed in the background from half this age;
   * once older (the issuer unreachable meanwhile), requests fail closed with 503 until a fetch
   * succeeds. @default 600
   */
  maxAge?: number;
  /** Timeout of one fetch of the discovery document or the key set. @default 5 */
  timeout?: number;
}

/**
 * Redis as the shared state of every application instance (revocations, replay caches,
 * histories, counters). Needs the optional peer dependency `ioredis`.
 *
 * @publicApi
 */
export interface RedisStoreOptions {
  type: 'redis';
  /**
   * `redis://` or `rediss://` URL; the module creates the client and closes it on shutdown.
   * Give either `url` or `client`.
   */
  url?: string;
  /** Your own ioredis client; the module never closes it. Give either `url` or `client`. */
  client?: Redis;
  /** Prepended to every key, e.g. to share one Redis between applications. @default 'zt:' */
  keyPrefix?: string;
  /**
   * Longest wait for one command (ms) of a client the module creates; with the offline queue
   * off, a down Redis is reported at once and retried in the background. @default 500
   */
  commandTimeout?: number;
  /** Longest wait for a connection (ms) of a client the module creates. @default 2000 */
  connectTimeout?: number;
  /**
   * Per concern, let requests through when Redis is unreachable instead of refusing them with
   * 503 `ZT_STORE_UNAVAILABLE`: `revocation` treats tokens as not revoked, `state` treats replay
   * caches, histories and counters as empty. @default { revocation: false, state: false }
   */
  failOpen?: { revocation?: boolean; state?: boolean };
}

/**
 * How many entries each kind of in-process state may hold. Replay entries and revocations are
 * never dropped before they expire: when their budget is full, new ones are refused (503
 * `ZT_STORE_FULL`). Per-address and per-principal state are bounded apart, so that anonymous
 * traffic can never push out a principal's history.
 *
 * @publicApi
 */
export interface MemoryStoreLimits {
  /**
   * DPoP proof `jti`s remembered until they expire. Size it above the peak rate of DPoP
   * requests times `dpop.iatWindow + dpop.clockTolerance`. @default 100_000
   */
  replay?: number;
  /** Revoked tokens and subjects remembered until no token they concern is valid. @default 100_000 */
  revocations?: number;
  /** Keys of per-principal state (locations, devices, routes, baselines, counters). @default 100_000 */
  principals?: number;
  /** Keys of per-address state (failure and rate-limit counters of anonymous callers). @default 50_000 */
  addresses?: number;
}

/**
 * The in-process stores: one instance only (nothing is shared, and a restart forgets every
 * revocation and replay entry).
 *
 * @publicApi
 */
export interface MemoryStoreOptions {
  type: 'memory';
  /** Budgets of each kind of state. */
  limits?: MemoryStoreLimits;
}

/**
 * Where shared state lives: in memory (one instance; the default), in Redis (several instances),
 * or in your own stores.
 *
 * @publicApi
 */
export type ZeroTrustStoreOptions =
  | MemoryStoreOptions
  | RedisStoreOptions
  | {
      type: 'custom';
      /** Your implementation of the revocation store. */
      revocations: RevocationStore;
      /** Your implementation of the other shared state. @default in memory */
      state?: SharedStateStore;
    };

/**
 * Audit settings.
 *
 * @publicApi
 */
export interface AuditOptions {
  /**
   * Where decision records (one per request) and findings go. @default nestjs-pino's logger when
   * the app imports its `LoggerModule` (one ECS object per line), else one ECS JSON line per
   * record through the Nest logger
   */
  sink?: AuditSink;
  /**
   * Whether records of allowed requests are written too; refusals and would-denies always are.
   * `{ sampleRate: 0.1 }` writes one in ten (metrics still count every decision).
   * @default true
   */
  allows?: boolean | { sampleRate: number };
  /**
   * Records waiting for the sink, at most. Beyond, new ones are dropped and counted
   * (`zero_trust_audit_events_dropped_total`): emission never blocks a request. @default 10000
   */
  bufferSize?: number;
  /** Your application's name, added to every event as `labels.application`. */
  serviceName?: string;
}

/**
 * Metrics, health and denial explanations.
 *
 * @publicApi
 */
export interface MonitoringOptions {
  /**
   * The prom-client registry of the library's metrics: a `Registry` of yours, or `'global'`
   * for prom-client's default one. @default a new Registry (read it from `ZeroTrustMetrics`)
   */
  metrics?: { registry?: Registry | 'global' };
  /**
   * Readiness of the issuer's keys: down when the last successful key refresh is older than
   * `maxKeyAge` seconds. @default { maxKeyAge: 3600 }
   */
  health?: { maxKeyAge?: number };
  /**
   * Explain denials in the 403 body (the rule that refused, or that no rule grants the
   * action). Events always carry the explanation. Turn on in development only. @default false
   */
  explainDenials?: boolean;
}

/**
 * Where the client certificate of a request is read.
 * - `socket`: the TLS connection itself (the app terminates TLS with `requestCert: true`);
 * - `xfcc`: an Envoy `X-Forwarded-Client-Cert` header, believed only from a trusted proxy;
 * - `both`: a trusted proxy's header when there is one (the socket then holds the proxy's own
 *   certificate), else the socket.
 *
 * @publicApi
 */
export type CertificateSource = 'socket' | 'xfcc' | 'both';

/**
 * Service identity by mutual TLS: client certificates carrying SPIFFE IDs (X.509-SVIDs).
 *
 * @publicApi
 */
export interface MtlsOptions {
  /** The SPIFFE trust domain of your services, e.g. `demo.local`. */
  trustDomain: string;
  /** Where the client certificate is read. @default 'socket' */
  source?: CertificateSource;
  /**
   * SPIFFE ID path (without the leading `/`, e.g. `billing-worker` or `ns/prod/sa/billing`) →
   * OAuth `client_id` of the service. @default the path is the client_id
   */
  services?: Record<string, string>;
  /**
   * Whether a service principal (client-credentials token) must present a certificate of its
   * own service. @default false
   */
  requireForServices?: boolean;
}

/**
 * Proof of possession with DPoP (RFC 9449) for tokens bound to a key (`cnf.jkt`).
 *
 * @publicApi
 */
export interface DpopOptions {
  /** Refuse plain bearer tokens: every token must be DPoP-bound. @default false */
  required?: boolean;
  /** Accepted proof algorithms (asymmetric only). @default ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'] */
  algorithms?: string[];
  /** How old a proof's `iat` may be, in seconds; also how long its `jti` is remembered. @default 60 */
  iatWindow?: number;
  /** How far in the future a proof's `iat` may be, in seconds. @default 5 */
  clockTolerance?: number;
  /**
   * Required: the public base URL of this API (e.g. `https://api.example.com`, or
   * `https://example.com/api` behind a proxy that strips `/api`), or a list when it is published
   * at several. A proof's `htu` must equal one of them plus the request path. Never taken from
   * the request's `Host` or `X-Forwarded-*` headers, which are the client's word.
   */
  publicUrl: string | string[];
  /** Maximum size of a proof, in bytes. @default 4096 */
  maxProofSize?: number;
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
  /**
   * Maximum `exp - iat`, in seconds, even for a correctly signed token. At most 3600 unless
   * `unsafeAllowLongLivedTokens` is true. @default 900
   */
  maxTokenLifetime?: number;
  /**
   * Allows `maxTokenLifetime` above one hour. A stolen token stays usable for its whole
   * lifetime, so this is unsafe; the boot logs a warning when it is used. @default false
   */
  unsafeAllowLongLivedTokens?: boolean;
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
  /** Metrics, health and denial explanations. */
  monitoring?: MonitoringOptions;
  /**
   * Proxies whose forwarding headers are believed: `X-Forwarded-For` (client address),
   * `X-Forwarded-Client-Cert` and `X-Request-Id`. Addresses, CIDR blocks (`10.0.0.0/8`) or
   * `loopback`. The same headers from any other peer are ignored. @default [] (trust no proxy)
   */
  trustedProxies?: string[];
  /**
   * Make the request id current for the handler and everything it starts, so that
   * {@link currentRequestId} answers it and the service token client forwards it as
   * `X-Request-Id`. This uses `AsyncLocalStorage`, which on Node 20 puts a hook on every
   * promise (about a tenth of a warm request's CPU), so by default it is on only once a
   * `ServiceTokenClient` exists in the process (e.g. `ZeroTrustClientModule` is imported).
   * `true` turns it on for apps that call `currentRequestId()` themselves; `false` turns it off.
   * The id is in every audit event and response either way.
   * @default 'auto'
   */
  propagateRequestId?: boolean | 'auto';
  /** Service identity by mutual TLS and certificate-bound tokens. @default off (certificate-bound tokens are still enforced, from the socket) */
  mtls?: MtlsOptions;
  /** DPoP proof of possession. @default off (DPoP-bound tokens are then refused) */
  dpop?: DpopOptions;
  /** Context risk: signals, thresholds, step-up. @default off */
  risk?: RiskOptions;
  /**
   * Limit of failed authentications per client address: after `max` refused credentials (a
   * token presented and refused; a request without one does not count) within `window` seconds,
   * the address is answered 429 `ZT_RATE_LIMITED` before any token work until the window ends.
   * Counted in the shared store. @default off
   */
  authenticationFailures?: { max: number; window?: number };
}
