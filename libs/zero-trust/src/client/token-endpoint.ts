/**
 * Outgoing token requests, shared by the service token client, the session refresher and
 * {@link requestTokens}: discovery of the token endpoint and the token request itself, over the
 * library's one JSON-over-HTTP exchange (`utils/http-json.ts`, the same bounds as the key set's).
 *
 * Errors are {@link TokenRequestError}s whose messages name the endpoint's origin and path, the
 * HTTP status and the OAuth `error` code, never a secret, a token or a response body.
 */
import * as z from 'zod';

import { TokenRequestError } from '../errors/zero-trust.error.js';
import {
  describeUrl,
  discoverMetadata,
  HttpJsonError,
  isRecord,
  requestJson,
  type JsonResponse,
} from '../utils/http-json.js';
import {
  validateTokenRequestOptions,
  type ClientTlsOptions,
  type TokenRequestOptions,
} from './validate-client-options.js';

/** Who sends the requests to an identity provider, and their bounds. */
export interface TokenHttpOptions {
  /** Deadline of each request (connect, headers, body), in milliseconds. */
  timeoutMs: number;
  /** Presented on every request, for `tls_client_auth` (RFC 8705). */
  tls?: ClientTlsOptions | undefined;
  clientId: string;
  /** Sent with `client_secret_basic`; without one, `client_id` goes in the form. */
  clientSecret?: string | undefined;
}

function unavailable(url: string, error: unknown): TokenRequestError {
  if (!(error instanceof HttpJsonError)) {
    const detail = error instanceof Error ? error.message : 'discovery failed';
    return new TokenRequestError('ZT_TOKEN_ENDPOINT_UNAVAILABLE', detail, { cause: error });
  }
  const what = {
    timeout: 'timed out',
    'too-large': 'response too large',
    network: 'could not connect',
  };
  return new TokenRequestError(
    'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
    `${what[error.reason]} (${describeUrl(url)})`,
    { cause: error },
  );
}

/**
 * The token endpoint of `issuer`, from its discovery document (the RFC 8705
 * `mtls_endpoint_aliases.token_endpoint` when `mtls` and advertised).
 *
 * @throws TokenRequestError `ZT_TOKEN_ENDPOINT_UNAVAILABLE` when discovery fails
 */
export async function discoverTokenEndpoint(
  issuer: string,
  http: Pick<TokenHttpOptions, 'timeoutMs' | 'tls'>,
  mtls = false,
): Promise<string> {
  let doc: Record<string, unknown>;
  try {
    doc = await discoverMetadata(issuer, http);
  } catch (error) {
    throw unavailable(issuer, error);
  }
  const aliases = doc.mtls_endpoint_aliases;
  if (mtls && isRecord(aliases) && typeof aliases.token_endpoint === 'string') {
    return aliases.token_endpoint;
  }
  if (typeof doc.token_endpoint !== 'string') {
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `the discovery document of ${describeUrl(issuer)} has no token_endpoint`,
    );
  }
  return doc.token_endpoint;
}

/**
 * The token endpoint as configured, or discovered from the issuer on first use (and again after
 * a failed discovery).
 */
export function tokenEndpointOf(
  options: { issuer?: string | undefined; tokenEndpoint?: string | undefined },
  http: Pick<TokenHttpOptions, 'timeoutMs' | 'tls'>,
  mtls = false,
): () => Promise<string> {
  const { issuer = '', tokenEndpoint } = options;
  if (tokenEndpoint !== undefined) return () => Promise.resolve(tokenEndpoint);
  let endpoint: Promise<string> | undefined;
  return () =>
    (endpoint ??= discoverTokenEndpoint(issuer, http, mtls).catch((error: unknown) => {
      endpoint = undefined;
      throw error;
    }));
}

/** When to replace a token obtained at `at`: `skewMs` before it expires, at least half-way. */
export function refreshTime(at: number, expiresIn: number, skewMs: number): number {
  return at + Math.max(expiresIn * 1000 - skewMs, expiresIn * 500);
}

/** Optional members of a token response are kept only when they are strings. */
const optionalString = z.string().optional().catch(undefined);

const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.string(),
  expires_in: z.number().positive(),
  refresh_token: optionalString,
  scope: optionalString,
  id_token: optionalString,
});

/**
 * A successful token endpoint response (RFC 6749 §5.1).
 *
 * @publicApi
 */
export type TokenEndpointResponse = z.output<typeof tokenResponse>;

/** What {@link requestToken} returns besides the parsed response. */
export interface TokenRequestResult {
  tokens: TokenEndpointResponse;
  /** The `DPoP-Nonce` response header, if any. */
  dpopNonce: string | undefined;
}

/**
 * POSTs a form to a token endpoint and parses the answer.
 *
 * @throws TokenRequestError `ZT_TOKEN_REQUEST_REFUSED` on a 4xx with an OAuth error,
 *   `ZT_TOKEN_ENDPOINT_UNAVAILABLE` on a network error, a timeout, a 5xx or an unreadable body
 */
export async function requestToken(
  endpoint: string,
  params: Record<string, string>,
  http: TokenHttpOptions,
  headers: Record<string, string> = {},
): Promise<TokenRequestResult> {
  const form = new URLSearchParams(params);
  const { clientId, clientSecret } = http;
  if (clientSecret === undefined) form.set('client_id', clientId);
  else headers = { ...headers, authorization: basicAuthorization(clientId, clientSecret) };
  let response: JsonResponse;
  try {
    response = await requestJson(endpoint, { ...http, method: 'POST', headers, form });
  } catch (error) {
    throw unavailable(endpoint, error);
  }
  const { status, json } = response;
  const nonceHeader = response.headers['dpop-nonce'];
  const dpopNonce = typeof nonceHeader === 'string' ? nonceHeader : undefined;
  if (status < 200 || status > 299) {
    const oauthError =
      isRecord(json) && typeof json.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(json.error)
        ? json.error
        : undefined;
    if (status >= 400 && status < 500 && oauthError !== undefined) {
      const error = new TokenRequestError(
        'ZT_TOKEN_REQUEST_REFUSED',
        `${oauthError} (HTTP ${status} from ${describeUrl(endpoint)})`,
        { oauthError },
      );
      Object.defineProperty(error, 'dpopNonce', { value: dpopNonce, enumerable: false });
      throw error;
    }
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `HTTP ${status} from ${describeUrl(endpoint)}`,
    );
  }
  const tokens = tokenResponse.safeParse(json);
  if (!tokens.success) {
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `malformed token response from ${describeUrl(endpoint)}`,
    );
  }
  return { tokens: tokens.data, dpopNonce };
}

/** The `DPoP-Nonce` the identity provider sent with a refusal, if any. */
export function dpopNonceOf(error: unknown): string | undefined {
  if (!(error instanceof TokenRequestError)) return undefined;
  const nonce: unknown = (error as unknown as { dpopNonce?: unknown }).dpopNonce;
  return typeof nonce === 'string' ? nonce : undefined;
}

/** RFC 6749 §2.3.1 HTTP Basic credentials (id and secret form-urlencoded first). */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * One token request (RFC 6749 §3.2) of any grant, with the library's bounds: for a login
 * finished elsewhere (the authorization code), or a one-off token. Repeated calls and refreshes
 * are what `ServiceTokenClient` and `SessionRefresher` are for.
 *
 * @example
 * ```ts
 * const tokens = await requestTokens({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'cli',
 *   params: { grant_type: 'authorization_code', code, redirect_uri, code_verifier },
 * });
 * ```
 *
 * @throws TokenRequestError `ZT_TOKEN_REQUEST_REFUSED` (with its `oauthError`) or
 *   `ZT_TOKEN_ENDPOINT_UNAVAILABLE`
 * @throws ZeroTrustConfigurationError (`ZT_OPTIONS_INVALID`) when the options are invalid
 * @publicApi
 */
export async function requestTokens(options: TokenRequestOptions): Promise<TokenEndpointResponse> {
  const o = validateTokenRequestOptions(options);
  const endpoint = await tokenEndpointOf(o, o.http, o.tls !== undefined)();
  return (await requestToken(endpoint, o.params, o.http)).tokens;
}
