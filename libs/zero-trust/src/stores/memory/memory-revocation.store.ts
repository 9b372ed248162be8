import { StoreFullError } from '../../errors/zero-trust.error.js';
import type { RevocationStore } from '../revocation-store.interface.js';

type RevocationQuery = { jti: string; sub: string; iat: number };

/**
 * Options of a {@link MemoryRevocationStore}.
 *
 * @publicApi
 */
export interface MemoryRevocationStoreOptions {
  /**
   * Revoked tokens and subjects held at once. An entry is never dropped before no token it
   * concerns can still be valid; while this many are live, revoking anything new throws
   * `StoreFullError` (`ZT_STORE_FULL`) instead. @default 100_000
   */
  maxEntries?: number;
  /** The clock (seconds since the epoch). */
  now?: () => number;
}

/**
 * In-process {@link RevocationStore}: the default, for one instance and for the demo.
 * Entries are dropped once no token they concern can still be valid, never before: beyond
 * `maxEntries` live revocations, a new revocation is refused with `StoreFullError` rather than
 * dropping one (which would let a revoked token through again).
 *
 * @publicApi
 */
export class MemoryRevocationStore implements RevocationStore {
  private readonly tokens = new Map<string, number>();
  private readonly subjects = new Map<string, { before: number; until: number }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  /** @param options - the options, or (older form) the clock in seconds since the epoch */
  constructor(options: MemoryRevocationStoreOptions | (() => number) = {}) {
    const o = typeof options === 'function' ? { now: options } : options;
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.maxEntries = o.maxEntries ?? 100_000;
  }

  /** How many revocations (tokens and subjects) the store holds. */
  get size(): number {
    return this.tokens.size + this.subjects.size;
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.sweep();
    const current = this.tokens.get(jti);
    if (current === undefined) this.assertRoom();
    this.tokens.set(jti, Math.max(expiresAt, current ?? 0));
  }

  async revokeSubject(subject: string, issuedBefore: number, retainUntil: number): Promise<void> {
    this.sweep();
    const current = this.subjects.get(subject);
    if (current === undefined) this.assertRoom();
    this.subjects.set(subject, {
      before: Math.max(issuedBefore, current?.before ?? 0),
      until: Math.max(retainUntil, current?.until ?? 0),
    });
  }

  async isRevoked(token: RevocationQuery): Promise<boolean> {
    if (this.tokens.has(token.jti)) return true;
    const subject = this.subjects.get(token.sub);
    return subject !== undefined && token.iat <= subject.before;
  }

  /** @throws {StoreFullError} when `maxEntries` revocations are live */
  private assertRoom(): void {
    if (this.size < this.maxEntries) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const exp of this.tokens.values()) earliest = Math.min(earliest, exp);
    for (const entry of this.subjects.values()) earliest = Math.min(earliest, entry.until);
    const wait = Number.isFinite(earliest) ? Math.max(1, earliest - this.now() + 1) : undefined;
    throw new StoreFullError('revocation', this.maxEntries, wait);
  }

  /** Drops entries that no valid token can match any more. */
  private sweep(): void {
    const now = this.now();
    for (const [jti, exp] of this.tokens) if (exp < now) this.tokens.delete(jti);
    for (const [sub, entry] of this.subjects) if (entry.until < now) this.subjects.delete(sub);
  }
}
