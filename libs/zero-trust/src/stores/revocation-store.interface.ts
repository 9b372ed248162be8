/**
 * Shared state for token revocation. Implementations must be safe from several instances at
 * once, and must throw when the backing service is unreachable (the request is then refused).
 * @publicApi
 */
export interface RevocationStore {
  /** Revokes one token (`jti`) until it expires (`exp`, seconds since the epoch). */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  /**
   * Revokes every token of a subject issued at or before `issuedBefore`, keeping the entry until
   * `retainUntil` (seconds since the epoch) when no such token can still be valid.
   */
  revokeSubject(subject: string, issuedBefore: number, retainUntil: number): Promise<void>;
  /** Whether a token with these claims has been revoked, by `jti` or by subject. */
  isRevoked(token: { jti: string; sub: string; iat: number }): Promise<boolean>;
}

/** Injection token of the {@link RevocationStore}. @publicApi */
export const RevocationStore = Symbol('RevocationStore');
