import type { Agent, fetch as undiciFetch, RequestInit as UndiciRequestInit } from 'undici';

import {
  currentRequestId,
  FORWARDS_REQUEST_ID,
  wantRequestIdPropagation,
} from '../context/request-id.js';
import { DpopSigner } from './dpop-signer.js';
import { dpopNonceOf, refreshTime, requestToken, tokenEndpointOf } from './token-endpoint.js';
import {
  validateClientOptions,
  type ServiceTokenClientOptions,
} from './validate-client-options.js';
import { compact } from '../utils/compact.js';
import { ownValue } from '../utils/own-keys.js';

/** A cached access token for one audience. @publicApi */
export interface ServiceToken {
  /** The access token. Never log it. */
  readonly accessToken: string;
  /** Scheme for the `Authorization` header. */
  readonly tokenType: 'Bearer' | 'DPoP';
  /** The resource indicator it was requested for. */
  readonly audience: string;
  /** Expiry, epoch milliseconds (from `expires_in`, on the client's clock). */
  readonly expiresAt: number;
  /** When the client starts fetching a replacement, epoch milliseconds. */
  readonly refreshAt: number;
}

/** `RequestInit` plus the id of the request served, forwarded as `X-Request-Id`. @publicApi */
export interface ServiceFetchInit extends RequestInit {
  /** `X-Request-Id` (visible ASCII, 1-128 characters, else dropped). @default the current one */
  requestId?: string;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
/** A token that would expire within this margin is never served from the cache. */
const EXPIRY_MARGIN_MS = 1000;

/**
 * Gets and caches client-credentials access tokens per audience (RFC 8707): concurrent requests
 * share one token request; while the identity provider is down, a cached token serves until it
 * expires. @throws ZeroTrustConfigurationError from the constructor @publicApi
 */
export class ServiceTokenClient {
  /** Recognised by `propagateRequestId: 'auto'`: this client forwards the request id. */
  static readonly [FORWARDS_REQUEST_ID] = true;
  private readonly options: ReturnType<typeof validateClientOptions>;
  private readonly tokenEndpoint: () => Promise<string>;
  // Loaded on the first fetch, so an application that never calls out never loads undici.
  private pool: Promise<{ agent: Agent; fetch: typeof undiciFetch }> | undefined;
  private readonly signer: DpopSigner | undefined;
  private readonly cache = new Map<string, ServiceToken>();
  private readonly inflight = new Map<string, Promise<ServiceToken>>();
  private requests = 0;

  constructor(options: ServiceTokenClientOptions) {
    this.options = validateClientOptions(options);
    const { dpop, authMethod } = this.options;
    this.signer = dpop === false ? undefined : new DpopSigner(dpop === true ? undefined : dpop);
    this.tokenEndpoint = tokenEndpointOf(this.options, authMethod === 'tls_client_auth');
    wantRequestIdPropagation();
  }

  /** How many token requests this client has sent (for tests and metrics). */
  get tokenRequestCount(): number {
    return this.requests;
  }

  /** The RFC 7638 thumbprint of the DPoP key (the tokens' `cnf.jkt`), when DPoP is on. */
  get dpopThumbprint(): string | undefined {
    return this.signer?.thumbprint;
  }

  /** A token for `audience`, cached while fresh. @throws TokenRequestError, TypeError */
  async getToken(
    audience: string,
    options: { forceRefresh?: boolean } = {},
  ): Promise<ServiceToken> {
    checkAudience(audience);
    const cached = this.cache.get(audience);
    if (cached && !options.forceRefresh && this.options.clock() < cached.refreshAt) return cached;

    let pending = this.inflight.get(audience);
    if (!pending) {
      pending = this.obtain(audience).finally(() => this.inflight.delete(audience));
      this.inflight.set(audience, pending);
    }
    try {
      return await pending;
    } catch (error) {
      const usable =
        cached &&
        !options.forceRefresh &&
        this.options.clock() < cached.expiresAt - EXPIRY_MARGIN_MS;
      if (usable && this.cache.get(audience) === cached) return cached;
      throw error;
    }
  }

  /** Drops the cached token of `audience` (only if it is still `token`, when given). */
  invalidate(audience: string, token?: ServiceToken): void {
    if (token === undefined || this.cache.get(audience) === token) this.cache.delete(audience);
  }

  /** `Authorization`, and `DPoP` and `X-Request-Id` when they apply, for clients but `fetch`. */
  async authorizationHeaders(
    audience: string,
    request: { method: string; url: string | URL; requestId?: string; token?: ServiceToken },
  ): Promise<Record<string, string>> {
    const { method, url, requestId = currentRequestId() } = request;
    const token = request.token ?? (await this.getToken(audience));
    const headers: Record<string, string> = {
      authorization: `${token.tokenType} ${token.accessToken}`,
    };
    if (this.signer && token.tokenType === 'DPoP') {
      const { accessToken } = token;
      headers.dpop = this.signer.proof(method, url, { accessToken, now: this.options.clock() });
    }
    if (requestId !== undefined && REQUEST_ID.test(requestId)) headers['x-request-id'] = requestId;
    return headers;
  }

  /** Records the `DPoP-Nonce` a server sent for `url`, for the next proofs to its origin. */
  rememberDpopNonce(url: string | URL, nonce: string | null | undefined): void {
    this.signer?.rememberNonce(url, nonce);
  }

  /** `fetch` with a token for `audience`; a 401 is retried once (not with a stream body). */
  async fetch(audience: string, url: string | URL, init: ServiceFetchInit = {}): Promise<Response> {
    const { requestId, ...rest } = init;
    const method = (rest.method ?? 'GET').toUpperCase();
    const send = async (token: ServiceToken): Promise<Response> => {
      const headers = new Headers(rest.headers);
      const own = await this.authorizationHeaders(audience, { method, url, requestId, token });
      for (const [name, value] of Object.entries(own)) headers.set(name, value);
      const response = await this.send(url, { ...rest, method, headers });
      this.rememberDpopNonce(url, response.headers.get('dpop-nonce'));
      return response;
    };

    const token = await this.getToken(audience);
    const first = await send(token);
    if (first.status !== 401 || rest.body instanceof ReadableStream) return first;
    await first.body?.cancel().catch(() => undefined);
    if (asksForDpopNonce(token, (name) => first.headers.get(name))) return send(token);
    this.invalidate(audience, token);
    return send(await this.getToken(audience));
  }

  /** Closes the connection pool. The client cannot be used afterwards. */
  async close(): Promise<void> {
    this.cache.clear();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool).agent.close();
  }

  /** Nest lifecycle hook: closes the connection pool. */
  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async send(url: string | URL, init: RequestInit): Promise<Response> {
    const { timeoutMs, tls } = this.options;
    this.pool ??= import('undici').then(({ Agent, fetch }) => ({
      fetch,
      agent: new Agent({
        connect: { timeout: timeoutMs, ...tls },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }),
    }));
    const { agent, fetch } = await this.pool;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const response = await fetch(url, {
      ...(init as UndiciRequestInit),
      signal,
      dispatcher: agent,
    });
    return response as unknown as Response;
  }

  private async obtain(audience: string): Promise<ServiceToken> {
    const endpoint = await this.tokenEndpoint();
    const scope = ownValue(this.options.scopes, audience) || undefined;
    const params = compact({ grant_type: 'client_credentials', resource: audience, scope });

    const started = this.options.clock();
    const attempt = () => {
      this.requests += 1;
      const proof = this.signer?.proof('POST', endpoint, { now: this.options.clock() });
      return requestToken(endpoint, params, this.options, proof ? { dpop: proof } : {});
    };

    // RFC 9449 §8: a refusal with a new nonce is retried once, carrying it.
    const result = await attempt().catch((error: unknown) => {
      if (!this.signer?.rememberNonce(endpoint, dpopNonceOf(error))) throw error;
      return attempt();
    });
    this.signer?.rememberNonce(endpoint, result.dpopNonce);

    const { access_token, token_type, expires_in } = result.tokens;
    const token: ServiceToken = {
      accessToken: access_token,
      tokenType: token_type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
      audience,
      expiresAt: started + expires_in * 1000,
      refreshAt: refreshTime(started, expires_in, this.options.refreshSkewMs),
    };
    this.cache.set(audience, token);
    return token;
  }
}

/** Whether a 401 asks for a DPoP nonce (RFC 9449 §9): then the same token goes again. @internal */
export function asksForDpopNonce(
  token: ServiceToken,
  header: (name: string) => string | null | undefined,
): boolean {
  return (
    token.tokenType === 'DPoP' &&
    !!header('dpop-nonce') &&
    /use_dpop_nonce/.test(header('www-authenticate') ?? '')
  );
}

/** Refuses an audience that is not an RFC 8707 resource indicator. @throws TypeError @internal */
export function checkAudience(audience: string): void {
  if (typeof audience !== 'string' || !URL.canParse(audience) || audience.includes('#'))
    throw new TypeError('audience must be an absolute URI without a fragment (RFC 8707)');
}
