/**
 * Helpers that obtain tokens from the demo identity provider (no browser): used by the demo CLI
 * and by end-to-end tests. Token requests and discovery are the library's (`requestTokens`);
 * only the login pages, which a browser would show, are walked here with `fetch`.
 *
 * Error messages never contain passwords, client secrets, codes or tokens.
 */
import { createHash, randomBytes } from 'node:crypto';

import {
  requestTokens,
  type TokenEndpointResponse,
  type TokenRequestOptions,
} from 'nestjs-zero-trust/client';
import { TokenRequestError } from 'nestjs-zero-trust';

import {
  DEMO_AUDIENCE,
  DEMO_AUTHORIZATION_PATH,
  DEMO_CLI_CLIENT_ID,
  DEMO_CLI_REDIRECT_URI,
  DEMO_CLIENT_SCOPES,
} from './constants.js';
import { base32Decode, totp } from './totp.js';

/** A successful token endpoint response (RFC 6749 §5.1). */
export type TokenResponse = TokenEndpointResponse;

/** Options of {@link loginWithPassword}. */
export interface LoginWithPasswordOptions {
  /** Issuer URL of the IdP, e.g. `http://127.0.0.1:4000`. */
  issuer: string;
  /** Demo user name (`alice`, `bob`, `carol`). */
  username: string;
  /** The user's password. */
  password: string;
  /**
   * The user's TOTP secret (base32): when given, the login form's one-time code is computed from
   * it at submission, and the login counts as multi-factor (`acr` `urn:demo:acr:mfa`).
   */
  totpSecret?: string;
  /** Public client to log in with. @default 'demo-cli' */
  clientId?: string;
  /**
   * The browser's cookies at the IdP: pass a jar to keep the IdP session after the login (for a
   * later {@link logout}). @default a jar used for this login only
   */
  cookies?: CookieJar;
  /** Resource indicator (RFC 8707) the access token is for. @default DEMO_AUDIENCE */
  resource?: string;
  /**
   * Requested scopes. @default the client's registered scopes (`DEMO_CLIENT_SCOPES`; for
   * `demo-cli`: `openid offline_access invoices:read invoices:write reports:read revocations:write`)
   */
  scope?: string;
}

/** Options of {@link clientCredentials}. */
export interface ClientCredentialsOptions {
  /** Issuer URL of the IdP. */
  issuer: string;
  /** Service client id, e.g. `billing-worker`. */
  clientId: string;
  /** Its secret, sent with HTTP Basic authentication (`client_secret_basic`). */
  clientSecret: string;
  /** Resource indicator; when omitted the IdP uses its default, DEMO_AUDIENCE. */
  resource?: string;
  /** Requested API scopes, space-separated. */
  scope?: string;
}

/** A client certificate for mutual TLS, with the CA that signed the IdP's certificate (PEM). */
export interface ClientCertificate {
  key: string;
  cert: string;
  ca: string;
}

/** Options of {@link clientCredentialsWithCertificate}. */
export interface CertificateClientCredentialsOptions {
  /** Issuer URL of the IdP. */
  issuer: string;
  /** Service client id, e.g. `billing-worker`. */
  clientId: string;
  /** The service's certificate and key (`tls_client_auth`, RFC 8705). */
  tls: ClientCertificate;
  /** Resource indicator; when omitted the IdP uses its default, DEMO_AUDIENCE. */
  resource?: string;
  /** Requested API scopes, space-separated. */
  scope?: string;
}

/** Options of {@link refreshTokens}. */
export interface RefreshTokensOptions {
  /** Issuer URL of the IdP. */
  issuer: string;
  /** The refresh token to redeem (it is rotated: use the returned one next time). */
  refreshToken: string;
  /** Public client the refresh token was issued to. @default 'demo-cli' */
  clientId?: string;
  /** Resource indicator; when omitted the granted resource is used. */
  resource?: string;
}

/** What a login asks for when the caller names no scope and the client has none registered. */
const DEFAULT_SCOPE = 'openid offline_access';
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 10;

/**
 * Logs a demo user in through the real authorization code flow with PKCE (S256), over HTTP:
 * discovery, authorization request, the IdP's login form, the consent step, then the code
 * exchange at the token endpoint. Cookies are kept in a per-call jar; redirects are followed
 * manually until the redirect to the client's redirect URI, whose `code` is read from the
 * `Location` header (nothing needs to listen on the redirect URI).
 *
 * When `scope` contains `offline_access`, `prompt=consent` is sent as OpenID Connect requires,
 * so that a refresh token is issued.
 *
 * @returns the token response (access token, and with the default scope an ID token and a
 *   refresh token)
 * @throws Error with a readable message on wrong credentials, an unreachable IdP, a refused
 *   request or an unexpected response
 */
export async function loginWithPassword(o: LoginWithPasswordOptions): Promise<TokenResponse> {
  const issuer = normalizeIssuer(o.issuer);
  const clientId = o.clientId ?? DEMO_CLI_CLIENT_ID;
  const resource = o.resource ?? DEMO_AUDIENCE;
  const scope = o.scope ?? DEMO_CLIENT_SCOPES[clientId] ?? DEFAULT_SCOPE;
  const jar = o.cookies ?? new CookieJar(issuer);

  const codeVerifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorizationUrl = new URL(`${issuer}${DEMO_AUTHORIZATION_PATH}`);
  const query = authorizationUrl.searchParams;
  query.set('response_type', 'code');
  query.set('client_id', clientId);
  query.set('redirect_uri', DEMO_CLI_REDIRECT_URI);
  query.set('scope', scope);
  query.set('resource', resource);
  query.set('code_challenge', createHash('sha256').update(codeVerifier).digest('base64url'));
  query.set('code_challenge_method', 'S256');
  query.set('state', state);
  const scopes = scope.split(' ');
  if (scopes.includes('openid')) query.set('nonce', randomBytes(16).toString('base64url'));
  if (scopes.includes('offline_access')) query.set('prompt', 'consent');

  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  let loginSubmitted = false;

  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    const response = await send(url, {
      method: form ? 'POST' : 'GET',
      headers: {
        accept: 'text/html',
        ...jar.header(url),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form?.toString(),
      redirect: 'manual',
    });
    jar.store(url, response);
    const submittedLogin = form !== undefined;
    form = undefined;

    if (response.status >= 300 && response.status < 400) {
      await discard(response);
      const location = response.headers.get('location');
      if (!location)
        throw new Error(`Login failed: redirect without Location from ${url.pathname}`);
      const next = new URL(location, url);
      if (isRedirectUri(next)) {
        const code = readCallback(next, state, issuer);
        return tokens('Code exchange', {
          issuer,
          clientId,
          params: {
            grant_type: 'authorization_code',
            code,
            redirect_uri: DEMO_CLI_REDIRECT_URI,
            code_verifier: codeVerifier,
            resource,
          },
        });
      }
      if (next.origin !== new URL(issuer).origin) {
        throw new Error(`Login failed: unexpected redirect to ${next.origin}${next.pathname}`);
      }
      url = next;
      continue;
    }

    const html = await readText(response);
    if (submittedLogin && [400, 401, 403].includes(response.status)) {
      const reason = pageError(html) ?? 'invalid user name or password';
      throw new Error(`Login failed for user ${JSON.stringify(o.username)}: ${reason}`);
    }
    if (response.status === 200 && !loginSubmitted) {
      const action = loginFormAction(html);
      if (!action) throw new Error(`Login failed: no login form at ${url.pathname}`);
      url = new URL(action, url);
      form = new URLSearchParams({ username: o.username, password: o.password });
      if (o.totpSecret !== undefined) form.set('otp', totp(base32Decode(o.totpSecret)));
      loginSubmitted = true;
      continue;
    }
    throw new Error(
      `Login failed: unexpected HTTP ${response.status} from ${url.pathname}` +
        (pageError(html) ? ` (${pageError(html) ?? ''})` : ''),
    );
  }
  throw new Error(`Login failed: more than ${MAX_REDIRECTS} redirects`);
}

/**
 * Obtains a service token with the client credentials grant, authenticating the client with
 * HTTP Basic (`client_secret_basic`).
 *
 * @throws Error on a wrong secret (`invalid_client`), an unknown resource (`invalid_target`),
 *   an unreachable IdP or an unexpected response
 */
export function clientCredentials(o: ClientCredentialsOptions): Promise<TokenResponse> {
  return tokens('Client credentials request', {
    issuer: normalizeIssuer(o.issuer),
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    params: grant('client_credentials', o),
  });
}

/**
 * Obtains a certificate-bound service token with the client credentials grant, authenticating
 * the client with its certificate (`tls_client_auth`) at the IdP's mutual-TLS token endpoint
 * (`mtls_endpoint_aliases.token_endpoint` from discovery).
 *
 * @throws Error when the IdP refuses the certificate (`invalid_client`), or is unreachable
 */
export function clientCredentialsWithCertificate(
  o: CertificateClientCredentialsOptions,
): Promise<TokenResponse> {
  return tokens('Client credentials request (mutual TLS)', {
    issuer: normalizeIssuer(o.issuer),
    clientId: o.clientId,
    tls: o.tls,
    params: grant('client_credentials', o),
  });
}

/**
 * Redeems a refresh token of a public client for new tokens. The IdP rotates refresh tokens:
 * the response carries a new one and the old one stops working.
 *
 * @throws Error when the refresh token is invalid, expired or already used, or the IdP is
 *   unreachable
 */
export function refreshTokens(o: RefreshTokensOptions): Promise<TokenResponse> {
  return tokens('Refresh', {
    issuer: normalizeIssuer(o.issuer),
    clientId: o.clientId ?? DEMO_CLI_CLIENT_ID,
    params: { ...grant('refresh_token', o), refresh_token: o.refreshToken },
  });
}

/** Options of {@link logout}. */
export interface LogoutOptions {
  /** Issuer URL of the IdP. */
  issuer: string;
  /** The cookies of the login (see `LoginWithPasswordOptions.cookies`): they name the session. */
  cookies: CookieJar;
  /** The ID token of the login, sent as `id_token_hint`. */
  idTokenHint?: string;
  /**
   * `true`: "Yes, sign me out" (the whole IdP session, every client); `false`: "No, stay signed
   * in" (only the client named by `idTokenHint` is logged out). @default true
   */
  everywhere?: boolean;
}

/**
 * Signs the End-User out at the IdP (OpenID Connect RP-Initiated Logout): opens the logout page,
 * then confirms "sign me out" with the page's xsrf token. The IdP ends the session for every
 * client, sends the logout tokens (Back-Channel Logout) and its CAEP events.
 *
 * @throws Error when the IdP shows no logout form (no session in the cookies) or refuses
 */
export async function logout(o: LogoutOptions): Promise<void> {
  const issuer = normalizeIssuer(o.issuer);
  const page = new URL(`${issuer}/session/end`);
  if (o.idTokenHint !== undefined) page.searchParams.set('id_token_hint', o.idTokenHint);
  const shown = await send(page, { headers: { accept: 'text/html', ...o.cookies.header(page) } });
  o.cookies.store(page, shown);
  const html = await readText(shown);
  const xsrf = /<input type="hidden" name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form id="op\.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
  if (shown.status !== 200 || xsrf === undefined || action === undefined) {
    throw new Error(`Logout failed: no logout form at ${page.pathname} (HTTP ${shown.status})`);
  }
  const confirm = new URL(decodeEntities(action), page);
  const confirmed = await send(confirm, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...o.cookies.header(confirm),
    },
    body: new URLSearchParams({
      xsrf: decodeEntities(xsrf),
      ...(o.everywhere === false ? {} : { logout: 'yes' }),
    }).toString(),
    redirect: 'manual',
  });
  o.cookies.store(confirm, confirmed);
  await discard(confirmed);
  if (confirmed.status !== 303) {
    throw new Error(`Logout failed: HTTP ${confirmed.status} from ${confirm.pathname}`);
  }
}

// ---------------------------------------------------------------------------------------------

/** The form of a grant, with the optional `resource` and `scope` the caller gave. */
function grant(type: string, o: { resource?: string; scope?: string }): Record<string, string> {
  return {
    grant_type: type,
    ...(o.resource === undefined ? {} : { resource: o.resource }),
    ...(o.scope === undefined ? {} : { scope: o.scope }),
  };
}

/** The library's token request, its errors turned into the CLI's sentences. */
async function tokens(what: string, request: TokenRequestOptions): Promise<TokenResponse> {
  try {
    return await requestTokens(request);
  } catch (error) {
    if (!(error instanceof TokenRequestError)) throw error;
    const code = networkErrorCode(error.cause);
    if (error.code === 'ZT_TOKEN_ENDPOINT_UNAVAILABLE' && code !== undefined) {
      throw new Error(
        `Cannot reach the identity provider at ${new URL(request.issuer ?? '').origin} (${code}). Is it running?`,
        { cause: error },
      );
    }
    throw new Error(`${what} failed: ${error.message}`, { cause: error });
  }
}

function normalizeIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`Invalid issuer URL ${JSON.stringify(issuer)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Invalid issuer URL ${JSON.stringify(issuer)}: expected http(s)`);
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * `fetch` with a timeout, for the login pages, turning network failures into a clear,
 * secret-free message.
 */
async function send(url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : (networkErrorCode(error) ?? 'network error');
    // The cause is a network error: it names the address, never the request's body.
    throw new Error(
      `Cannot reach the identity provider at ${url.origin} (${reason}). Is it running?`,
      { cause: error },
    );
  }
}

/** The system error code (`ECONNREFUSED`, ...) in a chain of causes, if any. */
function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if ('code' in current && typeof current.code === 'string' && /^E[A-Z]+$/.test(current.code))
      return current.code;
    current = current.cause;
  }
  return undefined;
}

function isRedirectUri(url: URL): boolean {
  const expected = new URL(DEMO_CLI_REDIRECT_URI);
  return (
    url.protocol === expected.protocol &&
    url.host === expected.host &&
    url.pathname === expected.pathname
  );
}

function readCallback(url: URL, expectedState: string, issuer: string): string {
  const params = url.searchParams;
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    throw new Error(`Authorization failed: ${error}${description ? ` (${description})` : ''}`);
  }
  if (params.get('state') !== expectedState) {
    throw new Error('Authorization failed: state mismatch in the redirect');
  }
  const iss = params.get('iss');
  if (iss !== null && iss !== issuer) {
    throw new Error(`Authorization failed: redirect from unexpected issuer ${JSON.stringify(iss)}`);
  }
  const code = params.get('code');
  if (!code) throw new Error('Authorization failed: no code in the redirect');
  return code;
}

/** Finds the `action` of the login form on the IdP's login page. */
function loginFormAction(html: string): string | undefined {
  const match = /<form\b[^>]*\baction="([^"]+)"/i.exec(html);
  return match?.[1] ? decodeEntities(match[1]) : undefined;
}

/** Finds the error message shown on an IdP page, if any. */
function pageError(html: string): string | undefined {
  const match = /<p class="error"[^>]*>([^<]*)<\/p>/i.exec(html);
  return match?.[1] ? decodeEntities(match[1]).trim() : undefined;
}

function decodeEntities(text: string): string {
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}

async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expiresAt: number | undefined;
}

/** A minimal cookie jar for one origin (the IdP's): honours `Path`, `Max-Age` and `Expires`. */
export class CookieJar {
  readonly #origin: string;
  readonly #cookies = new Map<string, StoredCookie>();

  constructor(issuer: string) {
    this.#origin = new URL(issuer).origin;
  }

  store(requestUrl: URL, response: Response): void {
    if (requestUrl.origin !== this.#origin) return;
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, separator).trim(),
        value: pair.slice(separator + 1).trim(),
        path: defaultPath(requestUrl),
        expiresAt: undefined,
      };
      let maxAge: number | undefined;
      for (const attribute of attributes) {
        const [rawKey = '', ...rest] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (key === 'path' && value.startsWith('/')) cookie.path = value;
        else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
        else if (key === 'expires' && !Number.isNaN(Date.parse(value))) {
          cookie.expiresAt = Date.parse(value);
        }
      }
      if (maxAge !== undefined) cookie.expiresAt = Date.now() + maxAge * 1000;

      const key = `${cookie.name}\u0000${cookie.path}`;
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) {
        this.#cookies.delete(key);
      } else {
        this.#cookies.set(key, cookie);
      }
    }
  }

  header(url: URL): { cookie?: string } {
    if (url.origin !== this.#origin) return {};
    const now = Date.now();
    const matching = [...this.#cookies.values()]
      .filter((cookie) => cookie.expiresAt === undefined || cookie.expiresAt > now)
      .filter((cookie) => pathMatches(url.pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length
      ? { cookie: matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') }
      : {};
  }
}

/** RFC 6265 §5.1.4 default-path. */
function defaultPath(url: URL): string {
  const path = url.pathname;
  const last = path.lastIndexOf('/');
  return last <= 0 ? '/' : path.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}
