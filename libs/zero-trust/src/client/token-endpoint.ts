/**
 * The HTTP side of outgoing token requests, shared by the service token client and the session
 * refresher: an undici transport (bounded timeouts, optional client certificate), OpenID
 * Connect / RFC 8414 discovery of the token endpoint, and the token request itself.
 *
 * Errors are {@link TokenRequestError}s whose messages name the endpoint's origin and path, the
 * HTTP status and the OAuth `error` code, never a secret, a token or a response body.
 */
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';

import { TokenRequestError } from '../errors/zero-trust.error.js';
import { shownValue } from '../utils/shown-value.js';

/** A client certificate and key for mutual TLS, with the CA bundle that signs the servers. */
export interface ClientTlsOptions {
  /** PEM private key of the client certificate. */
  key: string | Buffer;
  /** PEM client certificate (the leaf, optionally followed by intermediates). */
  cert: string | Buffer;
  /** PEM CA certificate(s) trusted for the servers; the system store when omitted. */
  ca?: string | Buffer | (string | Buffer)[];
}

/** A successful token endpoint response (RFC 6749 §5.1). */
export interface TokenEndpointResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
}

/** The metadata the clients need from discovery. */
export interface TokenEndpointMetadata {
  token_endpoint: string;
  /** RFC 8705 §5: endpoints to use when authenticating with a client certificate. */
  mtls_endpoint_aliases?: { token_endpoint?: string };
}

/** An HTTP transport: undici's `fetch` bound to one connection pool. */
export interface Transport {
  fetch(url: string | URL, init: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Largest response body read from an identity provider. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Creates a transport whose requests time out after `timeoutMs` (connect, headers and body),
 * presenting `tls` as client certificate when given.
 */
export function createTransport(timeoutMs: number, tls?: ClientTlsOptions): Transport {
  const agent = new Agent({
    connect: {
      timeout: timeoutMs,
      ...(tls ? { key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}) } : {}),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return {
    fetch: async (url, init) => {
      const signal = init.signal
        ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs);
      const response = await undiciFetch(url, {
        ...(init as UndiciRequestInit),
        signal,
        dispatcher: agent,
      });
      return response as unknown as Response;
    },
    close: () => agent.close(),
  };
}

/** `origin + path` of a URL: what error messages may name (no query, no credentials). */
export function describeUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

function networkFailure(url: string, error: unknown): TokenRequestError {
  const timedOut =
    error instanceof Error &&
    (error.name === 'TimeoutError' ||
      (error.cause instanceof Error && /timeout/i.test(error.cause.name)));
  return new TokenRequestError(
    'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
    `${timedOut ? 'timed out' : 'could not connect'} (${describeUrl(url)})`,
    { cause: error },
  );
}

async function readJson(response: Response, url: string): Promise<unknown> {
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) {
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `response too large (${describeUrl(url)})`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads `<issuer>/.well-known/openid-configuration` (then the RFC 8414
 * `oauth-authorization-server` document) and returns its token endpoints. The document's
 * `issuer` must equal `issuer`.
 *
 * @throws TokenRequestError `ZT_TOKEN_ENDPOINT_UNAVAILABLE` when neither document is usable
 */
export async function discoverTokenEndpoint(
  transport: Transport,
  issuer: string,
): Promise<TokenEndpointMetadata> {
  const base = issuer.replace(/\/+$/, '');
  let last: TokenRequestError | undefined;
  for (const suffix of ['openid-configuration', 'oauth-authorization-server']) {
    const url = `${base}/.well-known/${suffix}`;
    let response: Response;
    try {
      response = await transport.fetch(url, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw networkFailure(url, error);
    }
    const json = await readJson(response, url);
    if (!response.ok || !isRecord(json)) {
      last = new TokenRequestError(
        'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
        `discovery answered HTTP ${response.status} (${describeUrl(url)})`,
      );
      continue;
    }
    if (json.issuer !== base && json.issuer !== issuer) {
      throw new TokenRequestError(
        'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
        `the discovery document names issuer ${shownValue(json.issuer)}, expected ${shownValue(issuer)} (${describeUrl(url)})`,
      );
    }
    if (typeof json.token_endpoint !== 'string') {
      throw new TokenRequestError(
        'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
        `the discovery document has no token_endpoint (${describeUrl(url)})`,
      );
    }
    const metadata: TokenEndpointMetadata = { token_endpoint: json.token_endpoint };
    const aliases = json.mtls_endpoint_aliases;
    if (isRecord(aliases) && typeof aliases.token_endpoint === 'string') {
      metadata.mtls_endpoint_aliases = { token_endpoint: aliases.token_endpoint };
    }
    return metadata;
  }
  throw last ?? new TokenRequestError('ZT_TOKEN_ENDPOINT_UNAVAILABLE', 'discovery failed');
}

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
  transport: Transport,
  endpoint: string,
  body: URLSearchParams,
  headers: Record<string, string>,
): Promise<TokenRequestResult> {
  let response: Response;
  try {
    response = await transport.fetch(endpoint, {
      method: 'POST',
      headers: {
        ...headers,
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: body.toString(),
    });
  } catch (error) {
    throw networkFailure(endpoint, error);
  }
  const json = await readJson(response, endpoint);
  const dpopNonce = response.headers.get('dpop-nonce') ?? undefined;
  if (!response.ok) {
    const oauthError =
      isRecord(json) && typeof json.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(json.error)
        ? json.error
        : undefined;
    if (response.status >= 400 && response.status < 500 && oauthError !== undefined) {
      const error = new TokenRequestError(
        'ZT_TOKEN_REQUEST_REFUSED',
        `${oauthError} (HTTP ${response.status} from ${describeUrl(endpoint)})`,
        { oauthError },
      );
      Object.defineProperty(error, 'dpopNonce', { value: dpopNonce, enumerable: false });
      throw error;
    }
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `HTTP ${response.status} from ${describeUrl(endpoint)}`,
    );
  }
  if (
    !isRecord(json) ||
    typeof json.access_token !== 'string' ||
    typeof json.token_type !== 'string' ||
    typeof json.expires_in !== 'number' ||
    !Number.isFinite(json.expires_in) ||
    json.expires_in <= 0
  ) {
    throw new TokenRequestError(
      'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
      `malformed token response from ${describeUrl(endpoint)}`,
    );
  }
  const tokens: TokenEndpointResponse = {
    access_token: json.access_token,
    token_type: json.token_type,
    expires_in: json.expires_in,
  };
  if (typeof json.refresh_token === 'string') tokens.refresh_token = json.refresh_token;
  if (typeof json.scope === 'string') tokens.scope = json.scope;
  if (typeof json.id_token === 'string') tokens.id_token = json.id_token;
  return { tokens, dpopNonce };
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
