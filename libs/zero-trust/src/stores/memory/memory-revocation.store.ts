import type { Eventually } from '../../utils/eventually.js';
import type { RevocationStore } from '../revocation-store.interface.js';

type RevocationQuery = { jti: string; sub: string; iat: number };

/**
 * In-process {@link RevocationStore}: the default, for one instance and for the demo.
 * Entries are dropped once no token they concern can still be valid, so it stays bounded by the
 * number of revocations within one maximum token lifetime.
 *
 * @publicApi
 */
export class MemoryRevocationStore implements RevocationStore {
  private readonly tokens = new Map<string, number>();
  private readonly subjects = new Map<string, { before: number; until: number }>();

  constructor(private readonly now: () => number = () => Math.floor(Date.now() / 1000)) {}

  revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.sweep();
    this.tokens.set(jti, Math.max(expiresAt, this.tokens.get(jti) ?? 0));
    return Promise.resolve();
  }

  revokeSubject(subject: string, issuedBefore: number, retainUntil: number): Promise<void> {
    this.sweep();
    const current = this.subjects.get(subject);
    this.subjects.set(subject, {
      before: Math.max(issuedBefore, current?.before ?? 0),
      until: Math.max(retainUntil, current?.until ?? 0),
    });
    return Promise.resolve();
  }

  isRevoked(token: RevocationQuery): Promise<boolean> {
    return Promise.resolve(this.revokedNow(token));
  }

  /**
   * `store.isRevoked(token)`, answered at once when `store` is exactly this class with its
   * method as defined; any other store (a subclass, a custom or Redis store, a wrapper, a spy
   * on the method) is asked through its promise. For the library's own request path.
   *
   * @internal
   */
  static checkNow(store: RevocationStore, token: RevocationQuery): Eventually<boolean> {
    return Object.getPrototypeOf(store) === MemoryRevocationStore.prototype &&
      store.isRevoked === IS_REVOKED
      ? (store as MemoryRevocationStore).revokedNow(token)
      : store.isRevoked(token);
  }

  private revokedNow(token: RevocationQuery): boolean {
    if (this.tokens.has(token.jti)) return true;
    const subject = this.subjects.get(token.sub);
    return subject !== undefined && token.iat <= subject.before;
  }

  /** Drops entries that no valid token can match any more. */
  private sweep(): void {
    const now = this.now();
    for (const [jti, exp] of this.tokens) if (exp < now) this.tokens.delete(jti);
    for (const [sub, entry] of this.subjects) if (entry.until < now) this.subjects.delete(sub);
  }
}

/** The method as defined: a replaced one (a spy) takes the promise path. */
const IS_REVOKED = (MemoryRevocationStore.prototype as unknown as Record<string, unknown>)
  .isRevoked;
