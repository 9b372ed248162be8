import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import * as z from 'zod';

import type { TokenRequestError } from '../errors/zero-trust.error.js';
import {
  customIssue,
  optionsObject,
  evenWithOtherProblems,
  func,
  isAcceptableKeyUrl,
  numberIn,
  ownMap,
  parseOptions,
  says,
  shaped,
} from '../options/schema-kit.js';
import type { TokenEndpointResponse } from './token-endpoint.js';

/** An identity-provider URL: absolute, no credentials, query or fragment; HTTPS but on loopback. */
const idpUrl = z
  .string(says('must be a URL string'))
  .min(1)
  .check((ctx) => {
    const url = URL.parse(ctx.value);
    const problem =
      url === null
        ? 'is not an absolute URL'
        : url.username || url.password || url.search || url.hash
          ? 'must not carry credentials, a query or a fragment'
          : isAcceptableKeyUrl(ctx.value)
            ? undefined
            : 'must use https (http is accepted on loopback only)';
    if (problem !== undefined) ctx.issues.push(customIssue(problem));
  });

const isPem = (value: unknown): value is string | Buffer =>
  (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value);
const pem = shaped<string | Buffer>(isPem, 'must be a PEM string or Buffer');

/** The client certificate: a key and a certificate that can be read and belong together. */
const tlsOptions = optionsObject({
  /** PEM private key of the client certificate. */
  key: pem,
  /** PEM client certificate (the leaf, optionally followed by intermediates). */
  cert: pem,
  /** PEM CA certificate(s) trusted for the servers; the system store when omitted. */
  ca: shaped<string | Buffer | (string | Buffer)[]>(
    (ca) => isPem(ca) || (Array.isArray(ca) && ca.every(isPem)),
    'must be PEM (string, Buffer or an array of them)',
  ).optional(),
}).superRefine((value, ctx) => {
  const problem = (path: string, message: string) => ctx.addIssue(customIssue(message, [path]));
  const read = <T>(path: 'key' | 'cert', parse: (text: string | Buffer) => T, what: string) => {
    try {
      return isPem(value[path]) ? parse(value[path]) : undefined;
    } catch {
      return problem(path, `is not a readable ${what}`);
    }
  };
  const key = read('key', createPrivateKey, 'private key');
  const cert = read('cert', (text) => new X509Certificate(text), 'certificate');
  if (key && cert && !cert.checkPrivateKey(key)) problem('key', 'does not belong to tls.cert');
}, evenWithOtherProblems);

/** The authentication method: as given, else `tls_client_auth` for a certificate without secret. */
function authMethodOf(o: { authMethod?: unknown; clientSecret?: unknown; tls?: unknown }) {
  const byDefault = o.clientSecret === undefined && o.tls !== undefined;
  return o.authMethod ?? (byDefault ? 'tls_client_auth' : 'client_secret_basic');
}

/** A client certificate and key for mutual TLS, and the servers' CA bundle. @publicApi */
export type ClientTlsOptions = z.input<typeof tlsOptions>;

/** What both clients share: the identity provider, the OAuth client and the timing. */
const commonOptions = {
  /** The identity provider's issuer; the token endpoint is discovered from it. */
  issuer: idpUrl.optional(),
  /** The token endpoint, when there is no discovery (takes precedence over `issuer`). */
  tokenEndpoint: idpUrl.optional(),
  clientId: z.string(says('must be a non-empty string')).min(1),
  /** Its secret, for `client_secret_basic`. Never logged, never in an error message. */
  clientSecret: z.string(says('must be a non-empty string')).min(1).optional(),
  /** Timeout of every request (connect, headers, body). @default 10 */
  timeout: numberIn(0.1, 120, 'must be a number of seconds from 0.1 to 120').default(10),
};

/** What the two clients that refresh share. */
const refreshing = {
  ...commonOptions,
  /** Refresh a token this long before it expires (at least half-way). @default 30 */
  refreshSkew: numberIn(0, 3600, 'must be a number of seconds from 0 to 3600').default(30),
};

// Last in both schemas, so its problem is listed last.
const clock = func<() => number>('must be a function returning ms').default(() => Date.now);

function requireIdp(o: { issuer?: unknown; tokenEndpoint?: unknown }, ctx: z.RefinementCtx) {
  if (o.issuer === undefined && o.tokenEndpoint === undefined)
    ctx.addIssue(customIssue('issuer (for discovery) or tokenEndpoint is required'));
}

/** The options with their durations in milliseconds. */
function resolved<O extends { refreshSkew?: number; timeout: number }>({
  refreshSkew = 0,
  timeout,
  ...o
}: O) {
  return { ...o, refreshSkewMs: refreshSkew * 1000, timeoutMs: timeout * 1000 };
}

const clientOptions = optionsObject({
  ...refreshing,
  /** Client authentication: `client_secret_basic` with a `clientSecret`, else `tls_client_auth`. */
  authMethod: z.enum(['client_secret_basic', 'tls_client_auth']).optional(),
  /** Client certificate: for `tls_client_auth` (RFC 8705) and every `fetch` (bound tokens). */
  tls: tlsOptions.optional(),
  /** Scope to request per audience, e.g. `{ 'https://api.example.com': 'payments:write' }`. */
  scopes: ownMap(z.string(), 'must map audiences to scope strings').prefault({}),
  /**
   * Sender-constrain tokens with DPoP (RFC 9449): `true` generates an ES256 key in memory, or
   * pass your own P-256 `privateKey`. @default false
   */
  dpop: z
    .union(
      [
        z.boolean(),
        optionsObject({
          privateKey: shaped<KeyObject>(
            (key) =>
              key instanceof KeyObject &&
              key.type === 'private' &&
              key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
            'must be a P-256 private KeyObject',
          ),
        }),
      ],
      says('must be a boolean or { privateKey }'),
    )
    .default(false),
  /** Clock in epoch milliseconds, for tests. @default Date.now */
  clock,
})
  .superRefine((o, ctx) => {
    const problem = (message: string) => ctx.addIssue(customIssue(message));
    requireIdp(o, ctx);
    const authMethod = authMethodOf(o);
    if (authMethod === 'client_secret_basic' && o.clientSecret === undefined)
      problem('client_secret_basic needs clientSecret (or give tls for tls_client_auth)');
    if (authMethod === 'tls_client_auth' && o.tls === undefined)
      problem('tls_client_auth needs tls { key, cert }');
    if (authMethod === 'tls_client_auth' && o.clientSecret !== undefined)
      problem('clientSecret must not be set with tls_client_auth');
  }, evenWithOtherProblems)
  // The rules above leave the secret with client_secret_basic only, where it is sent.
  .transform(({ dpop, ...o }) => ({
    ...resolved(o),
    authMethod: authMethodOf(o) as 'client_secret_basic' | 'tls_client_auth',
    dpop: typeof dpop === 'boolean' ? dpop : dpop.privateKey,
  }));

/** Options of a `ServiceTokenClient`. Durations are in seconds. @publicApi */
export type ServiceTokenClientOptions = z.input<typeof clientOptions>;

const sessionOptions = optionsObject({
  ...refreshing,
  /** The tokens of the login: `access_token`, `refresh_token`, `expires_in`. */
  tokens: z.looseObject(
    { access_token: z.string(), refresh_token: z.string(), expires_in: z.number() },
    says('must hold access_token, refresh_token and expires_in'),
  ),
  /** Resource indicator to send with each refresh (RFC 8707); the granted one when omitted. */
  resource: z.string().optional(),
  /** Called with every new token response (the refresh token has rotated). */
  onRefresh: func<(tokens: TokenEndpointResponse) => void>('must be a function').optional(),
  /** Called when a scheduled refresh fails (see `SessionRefresher.start`). */
  onError: func<(error: TokenRequestError) => void>('must be a function').optional(),
  /** Clock in epoch milliseconds, for tests. @default Date.now */
  clock,
})
  .superRefine(requireIdp, evenWithOtherProblems)
  .transform((o) => resolved(o));

/** Options of a `SessionRefresher`. Durations are in seconds. @publicApi */
export type SessionRefresherOptions = z.input<typeof sessionOptions>;

/** Validates `ServiceTokenClientOptions`. @throws ZeroTrustConfigurationError */
export const validateClientOptions = (value: unknown) =>
  parseOptions(clientOptions, value, 'the options');

/** Validates `SessionRefresherOptions`. @throws ZeroTrustConfigurationError */
export const validateSessionOptions = (value: unknown) =>
  parseOptions(sessionOptions, value, 'the session options');

const tokenRequestOptions = optionsObject({
  ...commonOptions,
  /** Client certificate, for `tls_client_auth` (RFC 8705). */
  tls: tlsOptions.optional(),
  /** The grant's parameters, e.g. `{ grant_type: 'authorization_code', code, redirect_uri }`. */
  params: ownMap(z.string(), 'must map parameter names to strings'),
})
  .superRefine(requireIdp, evenWithOtherProblems)
  .transform((o) => resolved(o));

/** Options of `requestTokens`. Durations are in seconds. @publicApi */
export type TokenRequestOptions = z.input<typeof tokenRequestOptions>;

/** Validates `TokenRequestOptions`. @throws ZeroTrustConfigurationError */
export const validateTokenRequestOptions = (value: unknown) =>
  parseOptions(tokenRequestOptions, value, 'the token request options');
