import {
  cutOff,
  scopesOf,
  type RevocableToken,
  type RevocationScope,
  type RevocationStore,
} from '../revocation-store.interface.js';
import { LiveEntries } from './live-entries.js';

/** Options of a {@link MemoryRevocationStore}. @internal */
export interface MemoryRevocationStoreOptions {
  /** Live revocations held at once; beyond, a new one throws `StoreFullError`. @default 100_000 */
  maxEntries?: number;
  /** The clock (seconds since the epoch). */
  now?: () => number;
}

/**
 * In-process {@link RevocationStore}: the default, for one instance. An entry is dropped once no
 * token it concerns can still be valid, never before: a full store refuses new revocations
 * (`StoreFullError`) rather than let a revoked token through again. @internal
 */
export class MemoryRevocationStore implements RevocationStore {
  // `jti:<jti>` and `<scope>:<id>`; an entry expires the second after its `until`.
  private readonly entries: LiveEntries<{ expires: number; before: number }>;
  private readonly now: () => number;

  constructor({ maxEntries = 100_000, now }: MemoryRevocationStoreOptions = {}) {
    this.entries = new LiveEntries(maxEntries, 'revocation', 1);
    this.now = now ?? (() => Math.floor(Date.now() / 1000));
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.revoke(`jti:${jti}`, 0, expiresAt);
  }

  async revokeIssuedBefore(
    scope: RevocationScope,
    id: string,
    issuedBefore: number,
    retainUntil: number,
  ): Promise<void> {
    this.revoke(`${scope}:${id}`, issuedBefore, retainUntil);
  }

  async isRevoked(token: RevocableToken): Promise<boolean> {
    if (this.entries.has(`jti:${token.jti}`)) return true;
    return scopesOf(token).some(([scope, id]) => {
      const entry = this.entries.get(`${scope}:${id}`);
      return entry !== undefined && cutOff(token, entry.before);
    });
  }

  /** Never shortens a revocation; extending one needs no room. */
  private revoke(key: string, before: number, until: number): void {
    const now = this.now();
    this.entries.sweep(now);
    const current = this.entries.get(key);
    const expires = Math.max(until + 1, current?.expires ?? 0);
    this.entries.add(key, { expires, before: Math.max(before, current?.before ?? 0) }, now);
  }
}
