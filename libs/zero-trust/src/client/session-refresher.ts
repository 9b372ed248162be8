import { SessionRevokedError } from '../continuous-access/session-revoked.error.js';
import { TokenRequestError } from '../errors/zero-trust.error.js';
import { compact } from '../utils/compact.js';
import {
  refreshTime,
  requestToken,
  tokenEndpointOf,
  type TokenEndpointResponse,
} from './token-endpoint.js';
import { validateSessionOptions, type SessionRefresherOptions } from './validate-client-options.js';

/** Wait before retrying a scheduled refresh after the identity provider was unavailable. */
const RETRY_DELAY_MS = 5000;
/** The longest `setTimeout` delay: beyond it Node fires after 1 ms (a refresh loop). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Keeps a user session alive with rotating refresh tokens, always redeeming the newest one (a
 * reused refresh token revokes the session); a refusal ends the session. @publicApi
 */
export class SessionRefresher {
  private readonly options: ReturnType<typeof validateSessionOptions>;
  private readonly tokenEndpoint: () => Promise<string>;
  private current: TokenEndpointResponse & { refresh_token: string };
  private obtainedAt: number;
  private pending: Promise<TokenEndpointResponse> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: TokenRequestError | undefined;

  constructor(options: SessionRefresherOptions) {
    this.options = validateSessionOptions(options);
    this.tokenEndpoint = tokenEndpointOf(this.options);
    this.current = { token_type: 'Bearer', ...this.options.tokens };
    this.obtainedAt = this.options.clock();
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
    return refreshTime(this.obtainedAt, this.current.expires_in, this.options.refreshSkewMs);
  }

  /** Whether the identity provider has refused a refresh: the session is over. */
  get ended(): boolean {
    return this.failure !== undefined;
  }

  /**
   * A valid access token, refreshed first when due; while the identity provider is unavailable,
   * the current one until it expires. @throws TokenRequestError, SessionRevokedError
   */
  async getAccessToken(): Promise<string> {
    if (this.failure) throw this.failure;
    if (this.options.clock() < this.refreshAt) return this.current.access_token;
    try {
      return (await this.refresh()).access_token;
    } catch (error) {
      // A refusal ends the session; an outage does not end a token that is still valid.
      if (this.failure || this.options.clock() >= this.expiresAt) throw error;
      return this.current.access_token;
    }
  }

  /** Redeems the refresh token now, one request for concurrent calls. @throws TokenRequestError */
  refresh(): Promise<TokenEndpointResponse> {
    if (this.failure) return Promise.reject(this.failure);
    this.pending ??= this.redeem().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Refreshes on an unref'd timer; an unavailable identity provider is retried after 5 s. */
  start(): void {
    this.stop();
    if (this.failure) return;
    this.schedule(Math.max(0, this.refreshAt - this.options.clock()));
  }

  /** Stops the timer. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer (no connection is kept between requests). */
  async close(): Promise<void> {
    this.stop();
  }

  private schedule(delay: number): void {
    const step = Math.min(delay, MAX_DELAY_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (step < delay) return this.start(); // not due yet: wait another step
      this.refresh().then(
        () => this.start(),
        (error: unknown) => {
          if (error instanceof TokenRequestError) this.options.onError?.(error);
          if (!this.failure) this.schedule(RETRY_DELAY_MS);
        },
      );
    }, step);
    this.timer.unref();
  }

  private async redeem(): Promise<TokenEndpointResponse> {
    const endpoint = await this.tokenEndpoint();
    const { refresh_token } = this.current;
    const { options } = this;
    const { resource } = options;
    const params = compact({ grant_type: 'refresh_token', refresh_token, resource });
    const started = options.clock();
    const { tokens } = await requestToken(endpoint, params, options).catch((error: unknown) => {
      if (!(error instanceof TokenRequestError) || error.code !== 'ZT_TOKEN_REQUEST_REFUSED')
        throw error;
      this.stop();
      throw (this.failure =
        error.oauthError === 'invalid_grant' ? new SessionRevokedError(error) : error);
    });
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
