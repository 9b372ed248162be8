import * as z from 'zod';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { AbilityDefinition } from '../authorization/ability.types.js';
import type { AuditSink } from '../audit/audit-sink.interface.js';
import { TrustedProxies, trustedProxyProblem } from '../context/client-address.js';
import type { Principal, TokenClaims } from '../identity/principal.interface.js';
import { isTrustDomain } from '../identity/mtls/spiffe-id.js';
import { riskOptions } from '../risk/risk-options.interface.js';
import type { RevocationStore } from '../stores/revocation-store.interface.js';
import {
  SHARED_STATE_METHODS,
  type SharedStateStore,
} from '../stores/shared-state-store.interface.js';
import {
  evenWithOtherProblems,
  func,
  implementing,
  isAcceptableKeyUrl,
  normalizeType,
  numberIn,
  optionsObject,
  ownMap,
  positive,
  says,
  shaped,
  zeroTrustMode,
} from './schema-kit.js';

/*
 * Each option is declared once, here: its type (the public types below are inferred from these
 * schemas), its default, its validation and its error text. TSDoc on a key is what the IDE shows
 * for that option.
 */

/**
 * Whether authorization denies are enforced or only recorded.
 *
 * @publicApi
 */
export type ZeroTrustMode = z.infer<typeof zeroTrustMode>;

const asymmetricAlgorithm = z.enum(
  ['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512'],
  says(
    'must be an asymmetric algorithm (RS256, PS256, ES256, RS384, PS384, ES384, RS512, PS512, ES512)',
  ),
);

/**
 * Asymmetric JWS algorithms the library can verify. HMAC algorithms are never accepted: a
 * resource server must not share a signing secret with its issuer.
 *
 * @publicApi
 */
export type AsymmetricAlgorithm = z.infer<typeof asymmetricAlgorithm>;

/**
 * Longest token lifetime (`exp - iat`, seconds) accepted without `unsafeAllowLongLivedTokens`.
 *
 * @internal
 */
export const MAX_SAFE_TOKEN_LIFETIME = 3600;

const clientRegistration = optionsObject({
  /** Roles granted to this client (its ability definition reads them). @default [] */
  roles: z.array(z.string()).optional(),
  /** Attributes copied onto the principal. @default {} */
  attributes: shaped<Record<string, unknown>>(
    (v) => typeof v === 'object' && v !== null,
    'must be an object',
  ).optional(),
});

/**
 * A registered service or integration: one OAuth client, with its own identity.
 *
 * @publicApi
 */
export type ClientRegistration = z.input<typeof clientRegistration>;

const clients = ownMap(clientRegistration, 'must be an object keyed by client_id').prefault({});

const principals = optionsObject({
  /**
   * Your own services, by OAuth `client_id`. A client-credentials token (its `sub` is its
   * `client_id`) from a client listed neither here nor in `integrations` is refused.
   * @default {}
   */
  services: clients,
  /** External integrations, by OAuth `client_id`. @default {} */
  integrations: clients,
  /** Claim holding a user's roles (an array of strings or a space-separated string). @default 'roles' */
  rolesClaim: z.string(says('must be a claim name')).min(1).default('roles'),
  /**
   * Adds application attributes to a principal from its verified claims.
   * Runs once per verified token; must not throw for a well-formed token.
   */
  attributes:
    func<(claims: TokenClaims, principal: Principal) => Record<string, unknown>>(
      'must be a function',
    ).optional(),
}).superRefine(({ services, integrations }, ctx) => {
  if (typeof services !== 'object' || typeof integrations !== 'object') return;
  for (const id of Object.keys(services))
    if (Object.hasOwn(integrations, id))
      ctx.addIssue({
        code: 'custom',
        path: ['integrations', id],
        message: 'is also registered as a service',
      });
}, evenWithOtherProblems);

/**
 * How verified claims become a {@link Principal}.
 *
 * @publicApi
 */
export type PrincipalOptions = z.input<typeof principals>;

const jwks = optionsObject({
  /** Minimum time between two fetches triggered by an unknown `kid`. @default 30 */
  cooldown: numberIn(0, Infinity, 'must be a non-negative number').default(30),
  /**
   * Maximum age of the cached key set. It is refreshed in the background from half this age;
   * once older (the issuer unreachable meanwhile), requests fail closed with 503 until a fetch
   * succeeds. @default 600
   */
  maxAge: positive('must be a positive number').default(600),
  /** Timeout of one fetch of the discovery document or the key set. @default 5 */
  timeout: positive('must be a positive number').default(5),
});

/**
 * Timing of the issuer's key set (JWKS) cache. All values in seconds.
 *
 * @publicApi
 */
export type JwksOptions = z.input<typeof jwks>;

const positiveInteger = (unit: string) =>
  numberIn(1, Number.MAX_SAFE_INTEGER, `must be a positive integer (${unit})`, true);

const redisStore = optionsObject({
  type: z.literal('redis'),
  /**
   * `redis://` or `rediss://` URL; the module creates the client and closes it on shutdown.
   * Give either `url` or `client`.
   */
  url: z
    .string(says('must be a redis:// or rediss:// URL'))
    .refine((value) => URL.canParse(value) && /^rediss?:\/\/[^/?#]/.test(value))
    .optional(),
  /** Your own ioredis client; the module never closes it. Give either `url` or `client`. */
  client: implementing<Redis>(
    ['eval', 'mget', 'multi', 'set', 'get', 'ping', 'on'],
    'must be an ioredis client',
  ).optional(),
  /** Prepended to every key, e.g. to share one Redis between applications. @default 'zt:' */
  keyPrefix: z.string().default('zt:'),
  /**
   * Longest wait for one command (ms) of a client the module creates; with the offline queue
   * off, a down Redis is reported at once and retried in the background. @default 500
   */
  commandTimeout: positiveInteger('milliseconds').default(500),
  /** Longest wait for a connection (ms) of a client the module creates. @default 2000 */
  connectTimeout: positiveInteger('milliseconds').default(2000),
  /**
   * Per concern, let requests through when Redis is unreachable instead of refusing them with
   * 503 `ZT_STORE_UNAVAILABLE`: `revocation` treats tokens as not revoked, `state` treats replay
   * caches, histories and counters as empty. @default { revocation: false, state: false }
   */
  failOpen: optionsObject({
    revocation: z.boolean().default(false),
    state: z.boolean().default(false),
  }).prefault({}),
}).superRefine((store, ctx) => {
  if ((store.url === undefined) === (store.client === undefined))
    ctx.addIssue({ code: 'custom', message: 'needs either "url" or "client" for type "redis"' });
}, evenWithOtherProblems);

/**
 * Redis as the shared state of every application instance (revocations, replay caches,
 * histories, counters). Needs the optional peer dependency `ioredis`.
 *
 * @publicApi
 */
export type RedisStoreOptions = z.input<typeof redisStore>;

const memoryLimits = optionsObject({
  /**
   * DPoP proof `jti`s remembered until they expire. Size it above the peak rate of DPoP
   * requests times `dpop.iatWindow + dpop.clockTolerance`. @default 100_000
   */
  replay: positiveInteger('entries').default(100_000),
  /** Revoked tokens and subjects remembered until no token they concern is valid. @default 100_000 */
  revocations: positiveInteger('entries').default(100_000),
  /** Keys of per-principal state (locations, devices, routes, baselines, counters). @default 100_000 */
  principals: positiveInteger('entries').default(100_000),
  /** Keys of per-address state (failure and rate-limit counters of anonymous callers). @default 50_000 */
  addresses: positiveInteger('entries').default(50_000),
});

/**
 * How many entries each kind of in-process state may hold. Replay entries and revocations are
 * never dropped before they expire: when their budget is full, new ones are refused (503
 * `ZT_STORE_FULL`). Per-address and per-principal state are bounded apart, so that anonymous
 * traffic can never push out a principal's history.
 *
 * @publicApi
 */
export type MemoryStoreLimits = z.input<typeof memoryLimits>;

const memoryStore = optionsObject({
  type: z.literal('memory'),
  /** Budgets of each kind of state. */
  limits: memoryLimits.prefault({}),
});

/**
 * The in-process stores: one instance only (nothing is shared, and a restart forgets every
 * revocation and replay entry).
 *
 * @publicApi
 */
export type MemoryStoreOptions = z.input<typeof memoryStore>;

const customStore = optionsObject({
  type: z.literal('custom'),
  /** Your implementation of the revocation store. */
  revocations: implementing<RevocationStore>(
    ['isRevoked', 'revokeToken', 'revokeSubject'],
    'must implement RevocationStore (revokeToken, revokeSubject, isRevoked)',
  ),
  /** Your implementation of the other shared state. @default in memory */
  state: implementing<SharedStateStore>(
    SHARED_STATE_METHODS,
    'must implement SharedStateStore',
  ).optional(),
});

const store = z
  .discriminatedUnion('type', [memoryStore, redisStore, customStore], {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'must be "memory", "redis" or "custom"' : undefined,
  })
  .prefault({ type: 'memory' });

/**
 * Where shared state lives: in memory (one instance; the default), in Redis (several instances),
 * or in your own stores.
 *
 * @publicApi
 */
export type ZeroTrustStoreOptions = z.input<typeof store>;

const audit = optionsObject({
  /**
   * Where decision records (one per request) and findings go. @default nestjs-pino's logger when
   * the app imports its `LoggerModule` (one ECS object per line), else one ECS JSON line per
   * record through the Nest logger
   */
  sink: implementing<AuditSink>(['write'], 'must implement AuditSink (write(event))').optional(),
  /**
   * Whether records of allowed requests are written too; refusals and would-denies always are.
   * `{ sampleRate: 0.1 }` writes one in ten (metrics still count every decision).
   * @default true
   */
  allows: z
    .union(
      [z.boolean(), optionsObject({ sampleRate: numberIn(0, 1, 'must be a number from 0 to 1') })],
      says('must be a boolean or { sampleRate: number }'),
    )
    .default(true),
  /**
   * Records waiting for the sink, at most. Beyond, new ones are dropped and counted
   * (`zero_trust_audit_events_dropped_total`): emission never blocks a request. @default 10000
   */
  bufferSize: numberIn(1, Number.MAX_SAFE_INTEGER, 'must be a positive integer', true).default(
    10_000,
  ),
  /** Your application's name, added to every event as `labels.application`. */
  serviceName: z
    .string(says('must be 1 to 64 letters, digits, ".", "_" or "-"'))
    .regex(/^[\w.-]{1,64}$/)
    .optional(),
}).transform(({ allows, ...rest }) => {
  const allowSampleRate = typeof allows === 'boolean' ? Number(allows) : allows.sampleRate;
  // `allows` is kept for code that reads the boolean: whether any allow is emitted.
  return { ...rest, allowSampleRate, allows: allowSampleRate > 0 };
});

/**
 * Audit settings.
 *
 * @publicApi
 */
export type AuditOptions = z.input<typeof audit>;

const monitoring = optionsObject({
  /**
   * The prom-client registry of the library's metrics: a `Registry` of yours, or `'global'`
   * for prom-client's default one. @default a new Registry (read it from `ZeroTrustMetrics`)
   */
  metrics: optionsObject({
    registry: z
      .union(
        [
          shaped<Registry>(
            (v) => v instanceof Registry,
            'must be a prom-client Registry or "global"',
          ),
          z.literal('global'),
        ],
        says('must be a prom-client Registry or "global"'),
      )
      .optional(),
  }).prefault({}),
  /**
   * Readiness of the issuer's keys: down when the last successful key refresh is older than
   * `maxKeyAge` seconds. @default { maxKeyAge: 3600 }
   */
  health: optionsObject({
    maxKeyAge: positive('must be a positive number of seconds').default(3600),
  }).prefault({}),
  /**
   * Explain denials in the 403 body (the rule that refused, or that no rule grants the
   * action). Events always carry the explanation. Turn on in development only. @default false
   */
  explainDenials: z.boolean().default(false),
});

/**
 * Metrics, health and denial explanations.
 *
 * @publicApi
 */
export type MonitoringOptions = z.input<typeof monitoring>;

const certificateSource = z.enum(['socket', 'xfcc', 'both']);

/**
 * Where the client certificate of a request is read.
 * - `socket`: the TLS connection itself (the app terminates TLS with `requestCert: true`);
 * - `xfcc`: an Envoy `X-Forwarded-Client-Cert` header, believed only from a trusted proxy;
 * - `both`: a trusted proxy's header when there is one (the socket then holds the proxy's own
 *   certificate), else the socket.
 *
 * @publicApi
 */
export type CertificateSource = z.infer<typeof certificateSource>;

const mtls = optionsObject({
  /** The SPIFFE trust domain of your services, e.g. `demo.local`. */
  trustDomain: z
    .string(
      says('is required: a SPIFFE trust domain name (lowercase letters, digits, ".", "-", "_")'),
    )
    .refine(isTrustDomain),
  /** Where the client certificate is read. @default 'socket' */
  source: certificateSource.default('socket'),
  /**
   * SPIFFE ID path (without the leading `/`, e.g. `billing-worker` or `ns/prod/sa/billing`) →
   * OAuth `client_id` of the service. @default the path is the client_id
   */
  services: ownMap(
    z.string(says('must be a client id (a non-empty string)')).min(1),
    'must map SPIFFE ID paths to client ids (non-empty strings)',
  ).optional(),
  /**
   * Whether a service principal (client-credentials token) must present a certificate of its
   * own service. @default false
   */
  requireForServices: z.boolean().default(false),
});

/**
 * Service identity by mutual TLS: client certificates carrying SPIFFE IDs (X.509-SVIDs).
 *
 * @publicApi
 */
export type MtlsOptions = z.input<typeof mtls>;

const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
] as const;

const publicUrlEntry = z
  .string(says('must be an http(s) URL without credentials, query or fragment'))
  .refine((value) => {
    const url = URL.parse(value);
    return (
      url !== null &&
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash
    );
  })
  // Origin plus path prefix without trailing slash: a proof's htu is one of them plus the path.
  .transform((value) => {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

const dpop = optionsObject({
  /** Refuse plain bearer tokens: every token must be DPoP-bound. @default false */
  required: z.boolean().default(false),
  /** Accepted proof algorithms (asymmetric only). @default ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'] */
  algorithms: z
    .array(
      z.enum(
        DPOP_ALGORITHMS,
        says(`must be an asymmetric algorithm (${DPOP_ALGORITHMS.join(', ')})`),
      ),
      says('must be a non-empty array of algorithm names'),
    )
    .min(1)
    .default([...DPOP_ALGORITHMS])
    .transform((list): string[] => [...new Set(list)]),
  /** How old a proof's `iat` may be, in seconds; also how long its `jti` is remembered. @default 60 */
  iatWindow: numberIn(1, 3600, 'must be a number of seconds between 1 and 3600').default(60),
  /** How far in the future a proof's `iat` may be, in seconds. @default 5 */
  clockTolerance: numberIn(0, 300, 'must be a number of seconds between 0 and 300').default(5),
  /**
   * Required: the public base URL of this API (e.g. `https://api.example.com`, or
   * `https://example.com/api` behind a proxy that strips `/api`), or a list when it is published
   * at several. A proof's `htu` must equal one of them plus the request path. Never taken from
   * the request's `Host` or `X-Forwarded-*` headers, which are the client's word.
   */
  publicUrl: z.union(
    [
      publicUrlEntry,
      z.array(publicUrlEntry, says('must be a URL or a non-empty array of URLs')).min(1),
    ],
    {
      error: (issue) =>
        issue.input === undefined
          ? "is required: the URL (or URLs) clients call this API at, which every DPoP proof's htu must match (it is never taken from the request's Host)"
          : 'must be a URL or a non-empty array of URLs',
    },
  ),
  /** Maximum size of a proof, in bytes. @default 4096 */
  maxProofSize: numberIn(256, 65_536, 'must be an integer between 256 and 65536', true).default(
    4096,
  ),
}).transform(({ publicUrl, ...rest }) => ({
  ...rest,
  /** Where clients call the API: each an origin plus path prefix without trailing slash. */
  publicUrls: [...new Set(typeof publicUrl === 'string' ? [publicUrl] : publicUrl)],
}));

/**
 * Proof of possession with DPoP (RFC 9449) for tokens bound to a key (`cnf.jkt`).
 *
 * @publicApi
 */
export type DpopOptions = z.input<typeof dpop>;

const audienceProblem =
  "is required: this resource server's identifier (a non-empty string or array of strings)";
const audienceName = z.string(says(audienceProblem)).min(1);

/**
 * The options of {@link ZeroTrustModule}, with their defaults and rules.
 *
 * @internal
 */
export const zeroTrustOptions = optionsObject({
  /** The issuer identifier, compared exactly with the token's `iss` (e.g. `https://idp.example.com`). */
  issuer: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required (the exact "iss" value of your tokens)'
          : 'must be an https URL (http is allowed only on loopback hosts) without credentials or fragment',
    })
    .refine(isAcceptableKeyUrl),
  /**
   * The issuer's JWKS URL. When omitted, it is read from the issuer's OpenID Connect discovery
   * document (`<issuer>/.well-known/openid-configuration`). HTTPS is required except on loopback.
   */
  jwksUri: z
    .string(says('must be an https URL (http is allowed only on loopback hosts)'))
    .refine(isAcceptableKeyUrl)
    .optional(),
  /** This resource server's identifier(s): the token's `aud` must contain one of them. */
  audience: z
    .union(
      [audienceName, z.array(audienceName, says(audienceProblem)).min(1)],
      says(audienceProblem),
    )
    .transform((audience) => (typeof audience === 'string' ? [audience] : audience)),
  /** Accepted signing algorithms. @default ['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512'] */
  algorithms: z
    .array(asymmetricAlgorithm, says('must be a non-empty array'))
    .min(1)
    .default(asymmetricAlgorithm.options)
    .transform((list) => [...new Set(list)]),
  /** Accepted `typ` header values (RFC 9068). Add `''` to accept tokens without `typ`. @default ['at+jwt'] */
  tokenTypes: z
    .array(z.string(), says('must be a non-empty array of strings'))
    .min(1)
    .default(['at+jwt'])
    .transform((types) => types.map(normalizeType)),
  /**
   * Maximum `exp - iat`, in seconds, even for a correctly signed token. At most 3600 unless
   * `unsafeAllowLongLivedTokens` is true. @default 900
   */
  maxTokenLifetime: positive('must be a positive number').default(900),
  /**
   * Allows `maxTokenLifetime` above one hour. A stolen token stays usable for its whole
   * lifetime, so this is unsafe; the boot logs a warning when it is used. @default false
   */
  unsafeAllowLongLivedTokens: z.boolean().default(false),
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. @default 5 */
  clockTolerance: numberIn(0, 300, 'must be a number of seconds from 0 to 300').default(5),
  /** Maximum size of a token, in bytes, checked before any parsing. @default 8192 */
  maxTokenSize: positive('must be a positive number').default(8192),
  /** Claims required in addition to `exp`, `iat`, `sub` and `jti`. @default [] */
  requiredClaims: z.array(z.string(), says('must be an array of claim names')).default([]),
  /** Key set cache timing. */
  jwks: jwks.prefault({}),
  /** How claims map to a principal. */
  principals: principals.prefault({}),
  /** What each kind of principal may do. */
  abilities: optionsObject(
    {
      user: func<AbilityDefinition>(
        'must be a function (principal, env, builder) => void',
      ).optional(),
      service: func<AbilityDefinition>(
        'must be a function (principal, env, builder) => void',
      ).optional(),
      integration: func<AbilityDefinition>(
        'must be a function (principal, env, builder) => void',
      ).optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'unknown principal kind (use user, service or integration)'
          : undefined,
    },
  ).default({}),
  /**
   * Version of your policies. Cached abilities are keyed by it: change it when the
   * definitions' inputs change outside the token (e.g. roles loaded from a database).
   * @default '1'
   */
  policyVersion: z.string(says('must be a non-empty string')).min(1).default('1'),
  /**
   * Bound of the verified-token cache: a token seen before skips signature verification (never
   * expiry, key and revocation checks). `max: 0` turns it off. @default { max: 10000 }
   */
  tokenCache: optionsObject({ max: nonNegativeInteger().default(10_000) }).prefault({}),
  /** Bound of the built-ability cache. @default { max: 10000, ttl: 300 } (ttl in seconds) */
  abilityCache: optionsObject({
    max: nonNegativeInteger().default(10_000),
    ttl: numberIn(0, Infinity, 'must be a non-negative number').default(300),
  }).prefault({}),
  /** `enforce` refuses denied requests; `report-only` records "would deny" and lets them through. @default 'enforce' */
  mode: zeroTrustMode.default('enforce'),
  /** Stop the boot when a route has no `@Public`, `@Authenticated` or `@Can`. @default true */
  strictRouteAudit: z.boolean().default(true),
  /** Shared state. @default { type: 'memory' } */
  store,
  /** Decision events. */
  audit: audit.prefault({}),
  /** Metrics, health and denial explanations. */
  monitoring: monitoring.prefault({}),
  /**
   * Proxies whose forwarding headers are believed: the client address header (see
   * `forwardedHeader`), `X-Forwarded-Client-Cert` and `X-Request-Id`. Addresses, CIDR blocks
   * (`10.0.0.0/8`) or `loopback`. The same headers from any other peer are ignored.
   * @default [] (trust no proxy)
   */
  trustedProxies: z
    .array(
      z.string().check((ctx) => {
        const problem = trustedProxyProblem(ctx.value);
        if (problem !== undefined)
          ctx.issues.push({ code: 'custom', message: problem, input: undefined });
      }),
      says('must be an array of addresses, CIDR blocks or "loopback"'),
    )
    .default([]),
  /**
   * The one header a trusted proxy gives the client address in: `'x-forwarded-for'` (nginx,
   * ALB, Envoy, Cloudflare and Express's `trust proxy` write it) or `'forwarded'` (RFC 7239).
   * The other header is never read: a proxy that writes one passes the other through from the
   * client unchanged, so believing it would let the client choose its address. Choose the
   * header your outermost trusted proxy writes. @default 'x-forwarded-for'
   */
  forwardedHeader: z
    .enum(['x-forwarded-for', 'forwarded'], says('must be "x-forwarded-for" or "forwarded"'))
    .default('x-forwarded-for'),
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
  propagateRequestId: z
    .union([z.boolean(), z.literal('auto')], says('must be true, false or "auto"'))
    .default('auto'),
  /** Service identity by mutual TLS and certificate-bound tokens. @default off (certificate-bound tokens are still enforced, from the socket) */
  mtls: mtls.optional(),
  /** DPoP proof of possession. @default off (DPoP-bound tokens are then refused) */
  dpop: dpop.optional(),
  /** Context risk: signals, thresholds, step-up. @default off */
  // Written as `typeof`, so the emitted declarations keep the TSDoc of its keys (another file's).
  // oxlint-disable-next-line typescript/no-unnecessary-type-assertion
  risk: riskOptions as typeof riskOptions,
  /**
   * Limit of failed authentications per client address: after `max` refused credentials (a
   * token presented and refused; a request without one does not count) within `window` seconds,
   * every further attempt from the address that fails to authenticate is answered 429
   * `ZT_RATE_LIMITED` until the window ends; a valid token is still served. Counted in the
   * shared store. @default off
   */
  authenticationFailures: optionsObject({
    max: numberIn(1, Number.MAX_SAFE_INTEGER, 'must be a positive integer', true),
    window: numberIn(1, 86_400, 'must be a number of seconds from 1 to 86400').default(60),
  }).optional(),
})
  .superRefine((options, ctx) => {
    // Read as given: when invalid, it is not a boolean.
    const allowed: unknown = options.unsafeAllowLongLivedTokens;
    // A stolen bearer token is usable until it expires: past an hour, only on purpose.
    if (
      typeof options.maxTokenLifetime === 'number' &&
      options.maxTokenLifetime > MAX_SAFE_TOKEN_LIFETIME &&
      allowed !== true
    )
      ctx.addIssue({
        code: 'custom',
        path: ['maxTokenLifetime'],
        message: `must not exceed ${MAX_SAFE_TOKEN_LIFETIME} seconds unless unsafeAllowLongLivedTokens is true`,
      });
  }, evenWithOtherProblems)
  // Built here, not in `trustedProxies`, because it needs `forwardedHeader` too.
  .transform(({ trustedProxies, ...rest }) => ({
    ...rest,
    trustedProxies: new TrustedProxies(trustedProxies, rest.forwardedHeader),
  }));

function nonNegativeInteger() {
  return numberIn(0, Number.MAX_SAFE_INTEGER, 'must be a non-negative integer', true);
}

/**
 * Options of {@link ZeroTrustModule}. Validated at boot; every problem is reported at once.
 *
 * @publicApi
 */
export type ZeroTrustModuleOptions = z.input<typeof zeroTrustOptions>;
