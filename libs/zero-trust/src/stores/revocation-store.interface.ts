/**
 * Shared state for token revocation. Implementations must be safe to call from several
 * application instances at once (the Redis store is), and must throw when the backing service
 * is unreachable: the library then refuses the request (fail closed).
 *
 * @publicApi
 */
export interface RevocationStore {
  /**
   * Revokes one token until it expires.
   * @param jti - the token's `jti`
   * @param expiresAt - the token's `exp` (seconds since the epoch); the entry may be dropped after it
   */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  /**
   * Revokes every token of a subject issued at or before `issuedBefore` ("log out everywhere").
   * @param subject - the tokens' `sub`
   * @param issuedBefore - seconds since the epoch
   * @param retainUntil - seconds since the epoch after which no such token can still be valid
   */
  revokeSubject(subject: string, issuedBefore: number, retainUntil: number): Promise<void>;
  /** Whether a token with these claims has been revoked, by `jti` or by subject. */
  isRevoked(token: { jti: string; sub: string; iat: number }): Promise<boolean>;
}

/**
 * Injection token of the {@link RevocationStore} (a Symbol named like its interface).
 *
 * @publicApi
 */
export const RevocationStore = Symbol('RevocationStore');
