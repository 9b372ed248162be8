import { StoreFullError } from '../../errors/zero-trust.error.js';
import type { RevocationStore } from '../revocation-store.interface.js';

/** Options of a {@link MemoryRevocationStore}. @publicApi */
export interface MemoryRevocationStoreOptions {
  /** Live revocations held at once; beyond, a new one throws `StoreFullError`. @default 100_000 */
  maxEntries?: number;
  /** The clock (seconds since the epoch). */
  now?: () => number;
}

/**
 * In-process {@link RevocationStore}: the default, for one instance. An entry is dropped once no
 * token it concerns can still be valid, never before: a full store refuses new revocations
 * (`StoreFullError`) rather than let a revoked token through again.
 *
 * @publicApi
 */
export class MemoryRevocationStore implements RevocationStore {
  private readonly tokens = new Map<string, number>();
  private readonly subjects = new Map<string, { before: number; until: number }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor({ maxEntries = 100_000, now }: MemoryRevocationStoreOptions = {}) {
    this.now = now ?? (() => Math.floor(Date.now() / 1000));
    this.maxEntries = maxEntries;
  }

  /** How many revocations (tokens and subjects) the store holds. */
  get size(): number {
    return this.tokens.size + this.subjects.size;
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    const current = this.roomFor(this.tokens, jti);
    this.tokens.set(jti, Math.max(expiresAt, current ?? 0));
  }

  async revokeSubject(subject: string, issuedBefore: number, retainUntil: number): Promise<void> {
    const current = this.roomFor(this.subjects, subject);
    this.subjects.set(subject, {
      before: Math.max(issuedBefore, current?.before ?? 0),
      until: Math.max(retainUntil, current?.until ?? 0),
    });
  }

  async isRevoked(token: { jti: string; sub: string; iat: number }): Promise<boolean> {
    if (this.tokens.has(token.jti)) return true;
    const subject = this.subjects.get(token.sub);
    return subject !== undefined && token.iat <= subject.before;
  }

  /**
   * Drops the entries no valid token can match any more, then answers the current entry of
   * `key` (extending it needs no room).
   *
   * @throws {StoreFullError} for a new key while `maxEntries` revocations are live
   */
  private roomFor<V>(entries: Map<string, V>, key: string): V | undefined {
    const now = this.now();
    for (const [jti, exp] of this.tokens) if (exp < now) this.tokens.delete(jti);
    for (const [sub, entry] of this.subjects) if (entry.until < now) this.subjects.delete(sub);
    const current = entries.get(key);
    if (current !== undefined || this.size < this.maxEntries) return current;
    let earliest = Number.POSITIVE_INFINITY;
    for (const exp of this.tokens.values()) earliest = Math.min(earliest, exp);
    for (const { until } of this.subjects.values()) earliest = Math.min(earliest, until);
    const wait = Number.isFinite(earliest) ? Math.max(1, earliest - now + 1) : undefined;
    throw new StoreFullError('revocation', this.maxEntries, wait);
  }
}
