import { fileURLToPath } from 'node:url';

/**
 * Settings of the demo API, read from the environment by `main.ts`.
 */
export interface DemoConfig {
  /** The OpenID Connect issuer (the demo IdP). */
  issuer: string;
  /** The API's audience (resource indicator). */
  audience: string;
  /** `express` (default) or `fastify`. */
  adapter: 'express' | 'fastify';
  /** Authorization mode of the whole API. */
  mode: 'enforce' | 'report-only';
  /**
   * NATS for billing-worker's `payment.recorded` events (`NATS_URL`); without it the API takes
   * no events and needs no broker.
   */
  natsUrl?: string;
  /** Redis for all shared state (revocations, rate counts); in memory when absent. */
  redisUrl?: string;
  /** Prefix of every Redis key. @default 'zt:' */
  redisKeyPrefix?: string;
  /** Requests each principal (or anonymous client address) may make per minute. @default 300 */
  rateLimitPerMinute?: number;
  /** Refused credentials per client address and minute before 429 (`AUTH_FAILURES_PER_MINUTE`). @default off */
  authFailuresPerMinute?: number;
  /** Explain denials in 403 bodies (development). @default false */
  explainDenials?: boolean;
  /**
   * One access log line per request (pino-http, `ACCESS_LOG=on`). Off by default: the audit
   * trail already records every decision, and pino-http then does no per-request work at all.
   * @default false
   */
  accessLog?: boolean;
  /** Records of allowed requests: all (1, the default), none (0) or a sample rate in between. */
  auditAllows?: number;
  /** pino level of the JSON logs (audit events, Nest logs). @default 'silent' */
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /**
   * Context risk: enforced, only reported, or off (`RISK_MODE`, `enforce` by default there).
   * Off when not given, as in the suites that test authentication and access only.
   */
  riskMode?: 'enforce' | 'report-only' | 'off';
  /** When reporting-service may read reports, `HH:MM-HH:MM` UTC (`REPORTS_WINDOW_UTC`). @default the whole day */
  reportsWindow?: string;
  /**
   * Cerbos as the policy decision point (`POLICY_ENGINE=cerbos`, its gRPC address in
   * `CERBOS_GRPC`, the call timeout in `CERBOS_TIMEOUT_MS`); CASL decides when absent.
   */
  cerbos?: { grpc: string; timeout?: number };
  /** GeoIP2/GeoLite2 City database (`GEOIP_DB`). @default {@link DEMO_GEO_DATABASE} */
  geoDatabase?: string;
  /** Bound of the verified-token cache (`TOKEN_CACHE_MAX`, 0 turns it off; for benchmarks). */
  tokenCacheMax?: number;
  /** Bound of the ability cache (`ABILITY_CACHE_MAX`, 0 turns it off; for benchmarks). */
  abilityCacheMax?: number;
  /**
   * The URLs clients call the API at, which DPoP proofs name in `htu` (`API_PUBLIC_URL`,
   * comma-separated; behind a proxy, the proxy's URL). @default {@link DEMO_PUBLIC_URLS}, or
   * the listeners of `API_PORT` and `API_MTLS_PORT` when those are set
   */
  publicUrls?: string[];
  /**
   * The header the local proxy gives the client address in (the `forwardedHeader` option; the
   * suites set `'forwarded'` to test RFC 7239). @default 'x-forwarded-for'
   */
  forwardedHeader?: 'x-forwarded-for' | 'forwarded';
  /**
   * Continuous access evaluation (`CONTINUOUS_ACCESS=off` turns it off): the back-channel logout
   * receiver at `/oidc/backchannel-logout` and, when risk is on, the Shared Signals (CAEP)
   * receiver at `/ssf/events`, both fed by the demo IdP.
   */
  continuousAccess?: {
    /** The `Authorization` value the IdP sends with each push (`SSF_PUSH_AUTHORIZATION`). */
    pushAuthorization: string;
    /**
     * The IdP's admin secret (`IDP_ADMIN_SECRET`): `POST /admin/revocations {"subject"}` also
     * ends the subject's grants at the IdP, so the refresh token stops working too.
     */
    idpAdminSecret?: string;
  };
}

/** The demo CLI's client id: the audience of the IdP's logout tokens. */
export const DEMO_LOGOUT_AUDIENCE = 'demo-cli';

/** The demo API's identifier as a Shared Signals receiver (the SETs' `aud`). */
export const DEMO_SSF_AUDIENCE = 'https://invoices.demo.local/ssf';

/** Development defaults shared with the demo IdP (override both sides in any real setup). */
export const DEMO_SSF_PUSH_AUTHORIZATION = 'Bearer demo-ssf-push-secret';
export const DEMO_IDP_ADMIN_SECRET = 'demo-admin-secret';

/** Where the demo API listens by default: plain HTTP, and the mTLS listener for services. */
export const DEMO_PUBLIC_URLS: readonly string[] = [
  'http://127.0.0.1:3000',
  'https://127.0.0.1:3443',
];

/** Default rate limit of the demo API, per principal and minute. */
export const DEMO_RATE_LIMIT_PER_MINUTE = 300;

/** MaxMind's small test database shipped with the demo (London, Changchun, ...). */
export const DEMO_GEO_DATABASE = fileURLToPath(
  new URL('../data/GeoLite2-City-Test.mmdb', import.meta.url),
);

/** The whole day: reports may be read at any time. */
export const WHOLE_DAY = '00:00-00:00';

/** Default audience of the demo API. */
export const DEMO_API_AUDIENCE = 'https://invoices.demo.local';

/** Reads the demo configuration from environment variables, refusing unknown values. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const adapter = env.HTTP_ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify')
    throw new Error('HTTP_ADAPTER must be "express" or "fastify"');
  const mode = env.AUTHZ_MODE ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'report-only')
    throw new Error('AUTHZ_MODE must be "enforce" or "report-only"');
  const rate = Number(env.RATE_LIMIT_PER_MINUTE ?? DEMO_RATE_LIMIT_PER_MINUTE);
  if (!Number.isInteger(rate) || rate < 1)
    throw new Error('RATE_LIMIT_PER_MINUTE must be a positive integer');
  const failures =
    env.AUTH_FAILURES_PER_MINUTE === undefined ? undefined : Number(env.AUTH_FAILURES_PER_MINUTE);
  if (failures !== undefined && (!Number.isInteger(failures) || failures < 1))
    throw new Error('AUTH_FAILURES_PER_MINUTE must be a positive integer');
  const redisUrl = env.REDIS_URL === undefined || env.REDIS_URL === '' ? undefined : env.REDIS_URL;
  const riskMode = env.RISK_MODE ?? 'enforce';
  if (riskMode !== 'enforce' && riskMode !== 'report-only' && riskMode !== 'off')
    throw new Error('RISK_MODE must be "enforce", "report-only" or "off"');
  const reportsWindow = env.REPORTS_WINDOW_UTC ?? WHOLE_DAY;
  if (!/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(reportsWindow))
    throw new Error('REPORTS_WINDOW_UTC must look like 08:00-18:00');
  const accessLog = env.ACCESS_LOG ?? 'off';
  if (accessLog !== 'on' && accessLog !== 'off')
    throw new Error('ACCESS_LOG must be "on" or "off"');
  const allows = env.AUDIT_ALLOWS ?? 'on';
  const auditAllows = allows === 'on' ? 1 : allows === 'off' ? 0 : Number(allows);
  if (allows.trim() === '' || !(auditAllows >= 0 && auditAllows <= 1))
    throw new Error('AUDIT_ALLOWS must be "on", "off" or a sample rate between 0 and 1');
  // The demo listens on loopback: its public URLs are its own listeners unless a proxy fronts it.
  const mtlsPort = env.API_MTLS_PORT ?? '3443';
  const publicUrls =
    env.API_PUBLIC_URL === undefined || env.API_PUBLIC_URL.trim() === ''
      ? [
          `http://127.0.0.1:${env.API_PORT ?? '3000'}`,
          ...(mtlsPort === 'off' ? [] : [`https://127.0.0.1:${mtlsPort}`]),
        ]
      : env.API_PUBLIC_URL.split(',').map((url) => url.trim());
  const continuousAccess = env.CONTINUOUS_ACCESS ?? 'on';
  if (continuousAccess !== 'on' && continuousAccess !== 'off')
    throw new Error('CONTINUOUS_ACCESS must be "on" or "off"');
  const engine = env.POLICY_ENGINE ?? 'casl';
  if (engine !== 'casl' && engine !== 'cerbos')
    throw new Error('POLICY_ENGINE must be "casl" or "cerbos"');
  const cerbosTimeout =
    env.CERBOS_TIMEOUT_MS === undefined ? undefined : Number(env.CERBOS_TIMEOUT_MS);
  if (cerbosTimeout !== undefined && !(Number.isInteger(cerbosTimeout) && cerbosTimeout > 0))
    throw new Error('CERBOS_TIMEOUT_MS must be a positive integer');
  if (engine === 'cerbos' && !env.CERBOS_GRPC)
    throw new Error('POLICY_ENGINE=cerbos needs CERBOS_GRPC (host:port of the PDP)');
  const tokenCacheMax = cacheBound(env, 'TOKEN_CACHE_MAX');
  const abilityCacheMax = cacheBound(env, 'ABILITY_CACHE_MAX');
  return {
    ...(tokenCacheMax !== undefined ? { tokenCacheMax } : {}),
    ...(abilityCacheMax !== undefined ? { abilityCacheMax } : {}),
    issuer: env.IDP_URL ?? `http://127.0.0.1:${env.IDP_PORT ?? '4000'}`,
    audience: env.API_AUDIENCE ?? DEMO_API_AUDIENCE,
    adapter,
    mode,
    rateLimitPerMinute: rate,
    ...(failures !== undefined ? { authFailuresPerMinute: failures } : {}),
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    ...(env.NATS_URL ? { natsUrl: env.NATS_URL } : {}),
    ...(env.REDIS_KEY_PREFIX !== undefined ? { redisKeyPrefix: env.REDIS_KEY_PREFIX } : {}),
    explainDenials: env.NODE_ENV !== 'production',
    logLevel: 'info',
    accessLog: accessLog === 'on',
    auditAllows,
    riskMode,
    reportsWindow,
    geoDatabase: env.GEOIP_DB ?? DEMO_GEO_DATABASE,
    ...(engine === 'cerbos'
      ? {
          cerbos: {
            grpc: env.CERBOS_GRPC as string,
            ...(cerbosTimeout ? { timeout: cerbosTimeout } : {}),
          },
        }
      : {}),
    publicUrls,
    ...(continuousAccess === 'on'
      ? {
          continuousAccess: {
            pushAuthorization: env.SSF_PUSH_AUTHORIZATION || DEMO_SSF_PUSH_AUTHORIZATION,
            idpAdminSecret: env.IDP_ADMIN_SECRET || DEMO_IDP_ADMIN_SECRET,
          },
        }
      : {}),
  };
}

function cacheBound(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const bound = Number(value);
  if (!Number.isInteger(bound) || bound < 0) throw new Error(`${name} must be a whole number`);
  return bound;
}
