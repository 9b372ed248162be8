import { ZeroTrustConfigurationError, TokenRequestError } from '../errors/zero-trust.error.js';
import {
  discoverTokenEndpoint,
  requestToken,
  type TokenEndpointResponse,
  type TokenHttpOptions,
} from './token-endpoint.js';
import { checkIdpUrl, checkKnownKeys, checkSeconds } from './validate-client-options.js';

/**
 * Options of a {@link SessionRefresher}. Durations are in seconds.
 *
 * @publicApi
 */
export interface SessionRefresherOptions {
  /** The identity provider's issuer (the token endpoint is discovered). */
  issuer?: string;
  /** The token endpoint, when there is no discovery. */
  tokenEndpoint?: string;
  /** The OAuth client the session belongs to. */
  clientId: string;
  /** Its secret, for a confidential client (`client_secret_basic`); none for a public client. */
  clientSecret?: string;
  /** The tokens of the login: `access_token`, `refresh_token`, `expires_in`. */
  tokens: Pick<TokenEndpointResponse, 'access_token' | 'expires_in'> & { refresh_token: string };
  /** Resource indicator to send with each refresh (RFC 8707); the granted one when omitted. */
  resource?: string;
  /** Refresh this long before the access token expires (at least half-way). @default 30 */
  refreshSkew?: number;
  /** Timeout of each request. @default 10 */
  timeout?: number;
  /** Called with every new token response (the refresh token has rotated). */
  onRefresh?: (tokens: TokenEndpointResponse) => void;
  /** Called when a scheduled refresh fails (see {@link SessionRefresher.start}). */
  onError?: (error: TokenRequestError) => void;
  /** Clock in epoch milliseconds, for tests. @default Date.now */
  clock?: () => number;
}

const KNOWN = new Set([
  'issuer',
  'tokenEndpoint',
  'clientId',
  'clientSecret',
  'tokens',
  'resource',
  'refreshSkew',
  'timeout',
  'onRefresh',
  'onError',
  'clock',
]);
/** Wait before retrying a scheduled refresh after the identity provider was unavailable. */
const RETRY_DELAY_MS = 5000;

/**
 * Keeps a user session alive with rotating refresh tokens: refreshes the access token ahead of
 * its expiry, always redeeming the newest refresh token (each refresh token works once; an
 * identity provider that detects reuse revokes the whole session).
 *
 * On demand with {@link SessionRefresher.getAccessToken}, or on a timer with
 * {@link SessionRefresher.start}. Once the identity provider refuses a refresh
 * (`invalid_grant`: expired, revoked or reused), the session has {@link SessionRefresher.ended}
 * and every call throws.
 *
 * @example
 * ```ts
 * const session = new SessionRefresher({ issuer, clientId: 'demo-cli', tokens: loginResponse });
 * session.start();
 * await fetch(url, { headers: { authorization: `Bearer ${await session.getAccessToken()}` } });
 * ```
 *
 * @throws ZeroTrustConfigurationError from the constructor when the options are invalid
 * @publicApi
 */
export class SessionRefresher {
  private readonly http: TokenHttpOptions;
  private readonly clock: () => number;
  private readonly skewMs: number;
  private current: TokenEndpointResponse & { refresh_token: string };
  private obtainedAt: number;
  private endpoint: string | undefined;
  private pending: Promise<TokenEndpointResponse> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: TokenRequestError | undefined;

  constructor(private readonly options: SessionRefresherOptions) {
    const problems: string[] = [];
    const o = options as unknown as Record<string, unknown>;
    checkKnownKeys(o, KNOWN, 'session options', problems);
    if (typeof options.clientId !== 'string' || options.clientId.length === 0) {
      problems.push('clientId must be a non-empty string');
    }
    if (options.issuer !== undefined) checkIdpUrl(options.issuer, 'issuer', problems);
    if (options.tokenEndpoint !== undefined) {
      checkIdpUrl(options.tokenEndpoint, 'tokenEndpoint', problems);
    }
    if (options.issuer === undefined && options.tokenEndpoint === undefined) {
      problems.push('issuer (for discovery) or tokenEndpoint is required');
    }
    const tokens = options.tokens as Partial<SessionRefresherOptions['tokens']> | undefined;
    if (
      typeof tokens?.access_token !== 'string' ||
      typeof tokens.refresh_token !== 'string' ||
      typeof tokens.expires_in !== 'number'
    ) {
      problems.push('tokens must hold access_token, refresh_token and expires_in');
    }
    this.skewMs =
      checkSeconds(
        options.refreshSkew,
        'refreshSkew',
        { min: 0, max: 3600, fallback: 30 },
        problems,
      ) * 1000;
    const timeoutMs =
      checkSeconds(options.timeout, 'timeout', { min: 0.1, max: 120, fallback: 10 }, problems) *
      1000;
    if (problems.length > 0) throw new ZeroTrustConfigurationError('ZT_OPTIONS_INVALID', problems);

    this.clock = options.clock ?? Date.now;
    this.current = { token_type: 'Bearer', ...options.tokens };
    this.obtainedAt = this.clock();
    this.endpoint = options.tokenEndpoint;
    this.http = { timeoutMs, clientId: options.clientId, clientSecret: options.clientSecret };
  }

  /** The current access token (possibly about to expire: prefer {@link getAccessToken}). */
  get accessToken(): string {
    return this.current.access_token;
  }

  /** When the current access token expires, epoch milliseconds. */
  get expiresAt(): number {
    return this.obtainedAt + this.current.expires_in * 1000;
  }

  /** When the next refresh is due, epoch milliseconds. */
  get refreshAt(): number {
    const lifetime = this.current.expires_in * 1000;
    return this.obtainedAt + Math.max(lifetime - this.skewMs, lifetime / 2);
  }

  /** Whether the identity provider has refused a refresh: the session is over. */
  get ended(): boolean {
    return this.failure !== undefined;
  }

  /**
   * A valid access token, refreshed first when its refresh time has come.
   *
   * @throws TokenRequestError when the session has ended or the refresh fails
   */
  async getAccessToken(): Promise<string> {
    if (this.failure) throw this.failure;
    if (this.clock() < this.refreshAt) return this.current.access_token;
    return (await this.refresh()).access_token;
  }

  /**
   * Redeems the refresh token now (concurrent calls share one request) and keeps the rotated
   * one.
   *
   * @throws TokenRequestError `ZT_TOKEN_REQUEST_REFUSED` (the session has then ended) or
   *   `ZT_TOKEN_ENDPOINT_UNAVAILABLE`
   */
  refresh(): Promise<TokenEndpointResponse> {
    if (this.failure) return Promise.reject(this.failure);
    this.pending ??= this.redeem().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /**
   * Refreshes on a timer (unref'd: it never keeps the process alive) at each refresh time.
   * Failures go to `onError`; an unavailable identity provider is retried after 5 s, a refusal
   * stops the timer.
   */
  start(): void {
    this.stop();
    if (this.failure) return;
    const delay = Math.max(0, this.refreshAt - this.clock());
    this.schedule(delay);
  }

  /** Stops the timer. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer (no connection is kept between requests). */
  close(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh().then(
        () => this.start(),
        (error: unknown) => {
          if (error instanceof TokenRequestError) this.options.onError?.(error);
          if (!this.failure) this.schedule(RETRY_DELAY_MS);
        },
      );
    }, delay);
    this.timer.unref();
  }

  private async redeem(): Promise<TokenEndpointResponse> {
    this.endpoint ??= await discoverTokenEndpoint(this.options.issuer ?? '', this.http);
    const { resource } = this.options;
    const params = { grant_type: 'refresh_token', refresh_token: this.current.refresh_token };
    const started = this.clock();
    let tokens: TokenEndpointResponse;
    try {
      ({ tokens } = await requestToken(
        this.endpoint,
        resource === undefined ? params : { ...params, resource },
        this.http,
      ));
    } catch (error) {
      if (error instanceof TokenRequestError && error.code === 'ZT_TOKEN_REQUEST_REFUSED') {
        this.failure = error;
        this.stop();
      }
      throw error;
    }
    this.current = {
      ...tokens,
      // Without rotation the identity provider keeps the old refresh token valid.
      refresh_token: tokens.refresh_token ?? this.current.refresh_token,
    };
    this.obtainedAt = started;
    this.options.onRefresh?.(tokens);
    return tokens;
  }
}
