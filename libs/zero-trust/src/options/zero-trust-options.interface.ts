import * as z from 'zod';
import { Registry } from 'prom-client';
import type { AbilityDefinition } from '../authorization/ability.types.js';
import type { AuditSink } from '../audit/audit-sink.interface.js';
import { TrustedProxies, trustedProxyProblem } from '../context/client-address.js';
import { continuousAccessOptions } from '../continuous-access/continuous-access-options.js';
import { connectionsOptions, messagesOptions } from '../transports/transports-options.js';
import type { Principal, TokenClaims } from '../identity/principal.interface.js';
import { isTrustDomain } from '../identity/mtls/spiffe-id.js';
import { riskOptions } from '../risk/risk-options.interface.js';
import { redisTopologyOptions as topology, topologyProblems } from '../scale-out/redis-topology.js';
import type { RedisStoreClient } from '../scale-out/redis-topology.js';
import type { RevocationStore } from '../stores/revocation-store.interface.js';
import {
  SHARED_STATE_METHODS,
  type SharedStateStore,
} from '../stores/shared-state-store.interface.js';
import {
  customIssue,
  evenWithOtherProblems,
  func,
  implementing,
  isAcceptableKeyUrl,
  isObject,
  normalizeType,
  numberIn,
  optionsObject,
  ownMap,
  positive,
  says,
  shaped,
  zeroTrustMode,
} from './schema-kit.js';

// Each option is declared once: type (inferred), default, validation and error text. TSDoc on a
// key is what the IDE shows for that option.

/** Whether authorization denies are enforced or only recorded. @publicApi */
export type ZeroTrustMode = z.infer<typeof zeroTrustMode>;

const asymmetricAlgorithm = z.enum(
  ['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512'],
  says(
    'must be an asymmetric algorithm (RS256, PS256, ES256, RS384, PS384, ES384, RS512, PS512, ES512)',
  ),
);

/** Longest token lifetime (`exp - iat`, s) without `unsafeAllowLongLivedTokens`. @internal */
export const MAX_SAFE_TOKEN_LIFETIME = 3600;

const clientRegistration = optionsObject({
  /** Roles granted to this client (its ability definition reads them). @default [] */
  roles: z.array(z.string()).optional(),
  /** Attributes copied onto the principal. @default {} */
  attributes: shaped<Record<string, unknown>>(isObject, 'must be an object').optional(),
});

/** A registered service or integration: one OAuth client, with its own identity. @publicApi */
export type ClientRegistration = z.input<typeof clientRegistration>;

const clients = ownMap(clientRegistration, 'must be an object keyed by client_id').prefault({});

const principals = optionsObject({
  /** Your own services by `client_id` (unlisted clients' tokens are refused). @default {} */
  services: clients,
  /** External integrations, by OAuth `client_id`. @default {} */
  integrations: clients,
  /** Claim holding a user's roles (an array or a space-separated string). @default 'roles' */
  rolesClaim: z.string(says('must be a claim name')).min(1).default('roles'),
  /** Claim naming the token's grant at the issuer, so `revokeGrant` can match it. @default none */
  grantClaim: z.string(says('must be a claim name')).min(1).optional(),
  /** Adds attributes to a principal from its verified claims (once per token; must not throw). */
  attributes:
    func<(claims: TokenClaims, principal: Principal) => Record<string, unknown>>(
      'must be a function',
    ).optional(),
}).superRefine(({ services, integrations }, ctx) => {
  if (typeof services !== 'object' || typeof integrations !== 'object') return;
  for (const id of Object.keys(services))
    if (Object.hasOwn(integrations, id))
      ctx.addIssue(customIssue('is also registered as a service', ['integrations', id]));
}, evenWithOtherProblems);

const jwks = optionsObject({
  /** Minimum time between two fetches triggered by an unknown `kid`. @default 30 */
  cooldown: numberIn(0, Infinity, 'must be a non-negative number').default(30),
  /** Maximum age of the cached keys (refreshed from half of it; past it, 503). @default 600 */
  maxAge: positive('must be a positive number').default(600),
  /** Timeout of one fetch of the discovery document or the key set. @default 5 */
  timeout: positive('must be a positive number').default(5),
});

/** Timing of the issuer's key set (JWKS) cache, in seconds. @publicApi */
export type JwksOptions = z.input<typeof jwks>;

const integerFrom = (min: number, message: string) =>
  numberIn(min, Number.MAX_SAFE_INTEGER, message, true);
const positiveInteger = (unit: string) => integerFrom(1, `must be a positive integer (${unit})`);
const nonNegativeInteger = () => integerFrom(0, 'must be a non-negative integer');

const redisStore = optionsObject({
  type: z.literal('redis'),
  /** `redis://` or `rediss://` URL of one server; the module owns the client. */
  url: z
    .string(says('must be a redis:// or rediss:// URL'))
    .refine((value) => URL.canParse(value) && /^rediss?:\/\/[^/?#]/.test(value))
    .optional(),
  /** Your own ioredis client or cluster; the module never closes it. */
  client: implementing<RedisStoreClient>(
    ['eval', 'mget', 'multi', 'set', 'get', 'ping', 'on'],
    'must be an ioredis client',
  ).optional(),
  ...topology,
  /** Prepended to every key. @default 'zt:' */
  keyPrefix: z.string().default('zt:'),
  /** Longest wait for one command (ms) of a client the module creates. @default 500 */
  commandTimeout: positiveInteger('milliseconds').default(500),
  /** Longest wait for a connection (ms) of a client the module creates. @default 2000 */
  connectTimeout: positiveInteger('milliseconds').default(2000),
  /** Per concern, serve while Redis is down instead of 503 `ZT_STORE_UNAVAILABLE`. @default off */
  failOpen: optionsObject({
    revocation: z.boolean().default(false),
    state: z.boolean().default(false),
  }).prefault({}),
}).superRefine((store, ctx) => {
  for (const problem of topologyProblems(store)) ctx.addIssue(customIssue(problem));
}, evenWithOtherProblems);

const memoryLimits = optionsObject({
  /** DPoP proof `jti`s (peak DPoP rate × proof lifetime, at least). @default 100_000 */
  replay: positiveInteger('entries').default(100_000),
  /** Revoked tokens and subjects. @default 100_000 */
  revocations: positiveInteger('entries').default(100_000),
  /** Keys of per-principal state (histories, baselines, counters). @default 100_000 */
  principals: positiveInteger('entries').default(100_000),
  /** Keys of per-address state (counters of anonymous callers). @default 50_000 */
  addresses: positiveInteger('entries').default(50_000),
});

const memoryStore = optionsObject({
  type: z.literal('memory'),
  /** Entries per kind; a full replay or revocation budget refuses (503 `ZT_STORE_FULL`). */
  limits: memoryLimits.prefault({}),
});

const customStore = optionsObject({
  type: z.literal('custom'),
  /** Your implementation of the revocation store. */
  revocations: implementing<RevocationStore>(
    ['isRevoked', 'revokeToken', 'revokeIssuedBefore'],
    'must implement RevocationStore (revokeToken, revokeIssuedBefore, isRevoked)',
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

/** Where shared state lives: in memory (the default), Redis, or your own stores. @publicApi */
export type ZeroTrustStoreOptions = z.input<typeof store>;

const audit = optionsObject({
  /** Where decision records and findings go. @default nestjs-pino if imported, else Nest's */
  sink: implementing<AuditSink>(['write'], 'must implement AuditSink (write(event))').optional(),
  /** Whether allowed requests are recorded (`{ sampleRate: 0.1 }`: one in ten). @default true */
  allows: z
    .union(
      [z.boolean(), optionsObject({ sampleRate: numberIn(0, 1, 'must be a number from 0 to 1') })],
      says('must be a boolean or { sampleRate: number }'),
    )
    .default(true),
  /** Records waiting for the sink; beyond, new ones are dropped and counted. @default 10000 */
  bufferSize: integerFrom(1, 'must be a positive integer').default(10_000),
  /** Your application's name, added to every event as `labels.application`. */
  serviceName: z
    .string(says('must be 1 to 64 letters, digits, ".", "_" or "-"'))
    .regex(/^[\w.-]{1,64}$/)
    .optional(),
}).transform(({ allows, ...rest }) => ({
  ...rest,
  allowSampleRate: typeof allows === 'boolean' ? Number(allows) : allows.sampleRate,
}));

const monitoring = optionsObject({
  /** The prom-client registry of the metrics, or `'global'`. @default a new Registry */
  metrics: optionsObject({
    registry: shaped<Registry | 'global'>(
      (v) => v === 'global' || v instanceof Registry,
      'must be a prom-client Registry or "global"',
    ).optional(),
  }).prefault({}),
  /** The issuer check is down past `maxKeyAge` s without a refresh. @default { maxKeyAge: 3600 } */
  health: optionsObject({
    maxKeyAge: positive('must be a positive number of seconds').default(3600),
  }).prefault({}),
  /** Explain denials in the 403 body (development only; events always do). @default false */
  explainDenials: z.boolean().default(false),
});

const certificateSource = z.enum(['socket', 'xfcc', 'both']);

/**
 * Where the client certificate is read: the TLS `socket`, a trusted proxy's `xfcc` header
 * (`X-Forwarded-Client-Cert`), or `both` (the header from a trusted proxy, else the socket).
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
  /** SPIFFE ID path (no leading `/`) → `client_id`. @default the path is the client_id */
  services: ownMap(
    z.string(says('must be a client id (a non-empty string)')).min(1),
    'must map SPIFFE ID paths to client ids (non-empty strings)',
  ).optional(),
  /** Whether a service principal must present its own service's certificate. @default false */
  requireForServices: z.boolean().default(false),
});

// ES*, PS*, RS*, EdDSA: the order of the `algs` of a DPoP challenge.
const DPOP_ALGORITHMS = [...[...asymmetricAlgorithm.options].sort(), 'EdDSA' as const];

const publicUrlEntry = z
  .string(says('must be an http(s) URL without credentials, query or fragment'))
  .refine((value) => {
    const url = URL.parse(value);
    const extra = url !== null && (url.username || url.password || url.search || url.hash);
    return url !== null && /^https?:$/.test(url.protocol) && !extra;
  })
  // Origin plus path prefix without trailing slash: a proof's htu is one of them plus the path.
  .transform((value) => {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

const dpop = optionsObject({
  /** Refuse plain bearer tokens: every token must be DPoP-bound. @default false */
  required: z.boolean().default(false),
  /** Accepted proof algorithms (asymmetric only). @default every asymmetric one and EdDSA */
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
  /** Maximum age of a proof's `iat` in seconds (also how long its `jti` is kept). @default 60 */
  iatWindow: numberIn(1, 3600, 'must be a number of seconds between 1 and 3600').default(60),
  /** How far in the future a proof's `iat` may be, in seconds. @default 5 */
  clockTolerance: numberIn(0, 300, 'must be a number of seconds between 0 and 300').default(5),
  /** Required: this API's public base URL(s); a proof's `htu` is one plus the request path. */
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

const abilityDefinition = func<AbilityDefinition>(
  'must be a function (principal, env, builder) => void',
).optional();

const tooLong = `must not exceed ${MAX_SAFE_TOKEN_LIFETIME} seconds unless unsafeAllowLongLivedTokens is true`;
const audienceProblem =
  "is required: this resource server's identifier (a non-empty string or array of strings)";
const audienceName = z.string(says(audienceProblem)).min(1);

/** The options of {@link ZeroTrustModule}, with their defaults and rules. @internal */
export const zeroTrustOptions = optionsObject({
  /** The issuer identifier, compared exactly with the token's `iss`. */
  issuer: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required (the exact "iss" value of your tokens)'
          : 'must be an https URL (http is allowed only on loopback hosts) without credentials or fragment',
    })
    .refine(isAcceptableKeyUrl),
  /** The issuer's JWKS URL (HTTPS but on loopback). @default read from OIDC discovery */
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
  /** Accepted signing algorithms (asymmetric only, never HMAC). @default all of them */
  algorithms: z
    .array(asymmetricAlgorithm, says('must be a non-empty array'))
    .min(1)
    .default(asymmetricAlgorithm.options)
    .transform((list) => [...new Set(list)]),
  /** Accepted `typ` values (RFC 9068); add `''` to accept tokens without. @default ['at+jwt'] */
  tokenTypes: z
    .array(z.string(), says('must be a non-empty array of strings'))
    .min(1)
    .default(['at+jwt'])
    .transform((types) => types.map(normalizeType)),
  /** Maximum `exp - iat` in seconds; above 3600 needs `unsafeAllowLongLivedTokens`. @default 900 */
  maxTokenLifetime: positive('must be a positive number').default(900),
  /** Allows `maxTokenLifetime` above one hour (unsafe; logged at boot). @default false */
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
    { user: abilityDefinition, service: abilityDefinition, integration: abilityDefinition },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'unknown principal kind (use user, service or integration)'
          : undefined,
    },
  ).default({}),
  /** Version of your policies, which keys cached abilities: change it with them. @default '1' */
  policyVersion: z.string(says('must be a non-empty string')).min(1).default('1'),
  /** Bound of the verified-token cache (a hit skips the signature only; 0: off). @default 10000 */
  tokenCache: optionsObject({ max: nonNegativeInteger().default(10_000) }).prefault({}),
  /** Bound of the built-ability cache. @default { max: 10000, ttl: 300 } (ttl in seconds) */
  abilityCache: optionsObject({
    max: nonNegativeInteger().default(10_000),
    ttl: numberIn(0, Infinity, 'must be a non-negative number').default(300),
  }).prefault({}),
  /** `enforce` refuses denied requests; `report-only` only records them. @default 'enforce' */
  mode: zeroTrustMode.default('enforce'),
  /** Stop the boot when a route has no `@Public`, `@Authenticated` or `@Can`. @default true */
  strictRouteAudit: z.boolean().default(true),
  /** Shared state. @default { type: 'memory' } */
  store,
  /** Decision events. */
  audit: audit.prefault({}),
  /** Metrics, health and denial explanations. */
  monitoring: monitoring.prefault({}),
  /** Proxies (IPs, CIDR blocks, `loopback`) whose forwarding headers are believed. @default [] */
  trustedProxies: z
    .array(
      z.string().check((ctx) => {
        const problem = trustedProxyProblem(ctx.value);
        if (problem !== undefined) ctx.issues.push(customIssue(problem));
      }),
      says('must be an array of addresses, CIDR blocks or "loopback"'),
    )
    .default([]),
  /** The one client-address header read from a trusted proxy. @default 'x-forwarded-for' */
  forwardedHeader: z
    .enum(['x-forwarded-for', 'forwarded'], says('must be "x-forwarded-for" or "forwarded"'))
    .default('x-forwarded-for'),
  /**
   * Make the request id current for handlers ({@link currentRequestId}, forwarded by the service
   * token client). `'auto'`: on once a `ServiceTokenClient` exists (it costs CPU). @default 'auto'
   */
  propagateRequestId: z
    .union([z.boolean(), z.literal('auto')], says('must be true, false or "auto"'))
    .default('auto'),
  /** Service identity by mutual TLS (SPIFFE). @default off (bound tokens checked on the socket) */
  mtls: mtls.optional(),
  /** DPoP proof of possession (RFC 9449). @default off (DPoP-bound tokens are refused) */
  dpop: dpop.optional(),
  /** Context risk: signals, thresholds, step-up. @default off */
  // Written as `typeof`, so the emitted declarations keep the TSDoc of its keys (another file's).
  // oxlint-disable-next-line typescript/no-unnecessary-type-assertion
  risk: riskOptions as typeof riskOptions,
  /** Refused credentials per address and `window` (s) before 429 `ZT_RATE_LIMITED`. @default off */
  authenticationFailures: optionsObject({
    max: integerFrom(1, 'must be a positive integer'),
    window: numberIn(1, 86_400, 'must be a number of seconds from 1 to 86400').default(60),
  }).optional(),
  /** Receivers of the issuer's logouts and security events (routes in `receivers`). @default off */
  continuousAccess: continuousAccessOptions.optional(),
  /** Microservice messages (NATS, RabbitMQ) through the pipeline. @default off: refused */
  messages: messagesOptions.optional(),
  /** WebSockets and GraphQL subscriptions: re-checks of their tokens while they stay open. */
  connections: connectionsOptions.prefault({}),
})
  .superRefine((options, ctx) => {
    // Read as given (an invalid value is not a boolean): past an hour, only on purpose.
    const allowed: unknown = options.unsafeAllowLongLivedTokens;
    const lifetime: unknown = options.maxTokenLifetime;
    if (typeof lifetime === 'number' && lifetime > MAX_SAFE_TOKEN_LIFETIME && allowed !== true)
      ctx.addIssue(customIssue(tooLong, ['maxTokenLifetime']));
  }, evenWithOtherProblems)
  // Built here, not in `trustedProxies`, because it needs `forwardedHeader` too.
  .transform(({ trustedProxies, ...rest }) => ({
    ...rest,
    trustedProxies: new TrustedProxies(trustedProxies, rest.forwardedHeader),
  }));

/** Options of {@link ZeroTrustModule}, validated at boot (every problem at once). @publicApi */
export type ZeroTrustModuleOptions = z.input<typeof zeroTrustOptions>;
