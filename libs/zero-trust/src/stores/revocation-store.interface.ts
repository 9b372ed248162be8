/**
 * What a cutoff revocation names: a subject (`sub`), an identity provider session (`sid`) or a
 * grant (the claim named by `principals.grantClaim`). @publicApi
 */
export type RevocationScope = 'sub' | 'sid' | 'grant';

/** The facts of an access token that a revocation can name (`authTime`: `auth_time`). @publicApi */
export interface RevocableToken {
  jti: string;
  sub: string;
  iat: number;
  authTime?: number;
  sid?: string;
  grant?: string;
}

/**
 * Shared state for token revocation. Implementations must be safe from several instances at
 * once, and must throw when the backing service is unreachable (the request is then refused).
 * @publicApi
 */
export interface RevocationStore {
  /** Revokes one token (`jti`) until it expires (`exp`, seconds since the epoch). */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  /**
   * Revokes every token of `id` in `scope` issued (`iat`) or authenticated (`auth_time`) at or
   * before `issuedBefore`, keeping the cutoff until `retainUntil` (seconds since the epoch). A
   * cutoff is never lowered nor shortened.
   */
  revokeIssuedBefore(
    scope: RevocationScope,
    id: string,
    issuedBefore: number,
    retainUntil: number,
  ): Promise<void>;
  /** Whether a token with these facts is revoked, by `jti` or by a cutoff of its scopes. */
  isRevoked(token: RevocableToken): Promise<boolean>;
}

/** Injection token of the {@link RevocationStore}. @publicApi */
export const RevocationStore = Symbol('RevocationStore');

/** Whether a cutoff covers `token`: issued or authenticated at or before it. @internal */
export function cutOff(token: RevocableToken, before: number): boolean {
  return token.iat <= before || (token.authTime !== undefined && token.authTime <= before);
}

/** The scopes `token` names, with their ids. @internal */
export function scopesOf(token: RevocableToken): [RevocationScope, string][] {
  const scopes: [RevocationScope, string][] = [['sub', token.sub]];
  if (token.sid !== undefined) scopes.push(['sid', token.sid]);
  if (token.grant !== undefined) scopes.push(['grant', token.grant]);
  return scopes;
}
