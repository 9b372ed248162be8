import { TokenRequestError } from '../errors/zero-trust.error.js';

/**
 * The identity provider refused a refresh with `invalid_grant`: the session was ended there
 * (logout, a revoked grant, a reused refresh token, a disabled user). Final: the user must sign
 * in again; {@link SessionRefresher} never retries it. @publicApi
 */
export class SessionRevokedError extends TokenRequestError {
  constructor(refusal: TokenRequestError) {
    super('ZT_TOKEN_REQUEST_REFUSED', 'the session was ended by the identity provider', {
      oauthError: refusal.oauthError,
      cause: refusal,
    });
  }
}
