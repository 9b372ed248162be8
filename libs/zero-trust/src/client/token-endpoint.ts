// Outgoing token requests. Error messages name the endpoint's origin and path, the HTTP status
// and the OAuth `error` code, never a secret, a token or a response body.
import * as z from 'zod';

import { TokenRequestError } from '../errors/zero-trust.error.js';
import { isAcceptableKeyUrl } from '../options/schema-kit.js';
import {
  describeUrl,
  discoverMetadata,
  HttpJsonError,
  isRecord,
  requestJson,
} from '../utils/http-json.js';
import {
  validateTokenRequestOptions,
  type ClientTlsOptions,
  type TokenRequestOptions,
} from './validate-client-options.js';

/** What an exchange with the identity provider reads of the resolved options. */
export interface IdpOptions {
  issuer?: string | undefined;
  tokenEndpoint?: string | undefined;
  timeoutMs: number;
  tls?: ClientTlsOptions | undefined;
  clientId: string;
  /** Sent with `client_secret_basic`; without one, `client_id` goes in the form. */
  clientSecret?: string | undefined;
}

const WHY = {
  timeout: 'timed out',
  'too-large': 'response too large',
  network: 'could not connect',
};

function unavailable(url: string, error: unknown): TokenRequestError {
  const detail =
    error instanceof HttpJsonError
      ? `${WHY[error.reason]} (${describeUrl(url)})`
      : (error as Error).message; // discovery's own complaint (every path throws an Error)
  return new TokenRequestError('ZT_TOKEN_ENDPOINT_UNAVAILABLE', detail, { cause: error });
}

/** The token endpoint as configured, or discovered on first use (the RFC 8705 alias with mtls). */
export function tokenEndpointOf(options: IdpOptions, mtls = false): () => Promise<string> {
  const { issuer = '', tokenEndpoint, timeoutMs, tls } = options;
  if (tokenEndpoint !== undefined) return () => Promise.resolve(tokenEndpoint);
  const discover = async (): Promise<string> => {
    const doc = await discoverMetadata(issuer, { timeoutMs, tls }).catch((error: unknown) => {
      throw unavailable(issuer, error);
    });
    const aliases = doc.mtls_endpoint_aliases;
    const found =
      mtls && isRecord(aliases) && typeof aliases.token_endpoint === 'string'
        ? aliases.token_endpoint
        : doc.token_endpoint;
    // A discovered endpoint obeys the configured one's rule: no credentials over plain HTTP.
    if (typeof found === 'string' && isAcceptableKeyUrl(found)) return found;
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `the discovery document of ${describeUrl(issuer)} has no acceptable token_endpoint (https, or http on loopback)`,
    );
  };
  let endpoint: Promise<string> | undefined;
  return () =>
    (endpoint ??= discover().catch((error: unknown) => {
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

/** A successful token endpoint response (RFC 6749 §5.1). @publicApi */
export type TokenEndpointResponse = z.output<typeof tokenResponse>;

/** The `DPoP-Nonce` sent with each refusal. */
const refusalNonces = new WeakMap<object, string>();

/** POSTs a form to a token endpoint; the parsed answer, and its `DPoP-Nonce`. */
export async function requestToken(
  endpoint: string,
  params: Record<string, string>,
  idp: IdpOptions,
  headers: Record<string, string> = {},
): Promise<{ tokens: TokenEndpointResponse; dpopNonce: string | undefined }> {
  const form = new URLSearchParams(params);
  const { clientId, clientSecret, timeoutMs, tls } = idp;
  if (clientSecret === undefined) form.set('client_id', clientId);
  else headers = { ...headers, authorization: basicAuthorization(clientId, clientSecret) };
  const request = { timeoutMs, tls, method: 'POST' as const, headers, form };
  const response = await requestJson(endpoint, request).catch((error: unknown) => {
    throw unavailable(endpoint, error);
  });
  const { status, json } = response;
  const nonce = response.headers['dpop-nonce'];
  const dpopNonce = typeof nonce === 'string' ? nonce : undefined;
  const where = `HTTP ${status} from ${describeUrl(endpoint)}`;
  if (status < 200 || status > 299) {
    const oauthError =
      isRecord(json) && typeof json.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(json.error)
        ? json.error
        : undefined;
    if (status < 400 || status > 499 || oauthError === undefined)
      throw new TokenRequestError('ZT_TOKEN_ENDPOINT_UNAVAILABLE', where);
    const error = new TokenRequestError('ZT_TOKEN_REQUEST_REFUSED', `${oauthError} (${where})`, {
      oauthError,
    });
    if (dpopNonce !== undefined) refusalNonces.set(error, dpopNonce);
    throw error;
  }
  const tokens = tokenResponse.safeParse(json);
  if (tokens.success) return { tokens: tokens.data, dpopNonce };
  throw new TokenRequestError(
    'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
    `malformed token response from ${describeUrl(endpoint)}`,
  );
}

/** The `DPoP-Nonce` the identity provider sent with a refusal, if any. */
export function dpopNonceOf(error: unknown): string | undefined {
  return error instanceof TokenRequestError ? refusalNonces.get(error) : undefined;
}

/** RFC 6749 §2.3.1 HTTP Basic credentials (id and secret form-urlencoded first). */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** One token request (RFC 6749 §3.2) of any grant, e.g. to finish a login. @publicApi */
export async function requestTokens(options: TokenRequestOptions): Promise<TokenEndpointResponse> {
  const o = validateTokenRequestOptions(options);
  const endpoint = await tokenEndpointOf(o, o.tls !== undefined)();
  return (await requestToken(endpoint, o.params, o)).tokens;
}
