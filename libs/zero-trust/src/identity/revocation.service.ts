import { Inject, Injectable } from '@nestjs/common';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { DependencyUnavailableError, StoreFullError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { RevocationStore } from '../stores/revocation-store.interface.js';
import { reportStoreFull } from '../stores/store-full.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/** Revokes one token, or every token of a subject issued up to now (log out). @publicApi */
@Injectable()
export class RevocationService {
  constructor(
    @Inject(RevocationStore) private readonly store: RevocationStore,
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly metrics: ZeroTrustMetrics,
  ) {}

  /** Revokes the token `jti` until `expiresAt` (its `exp`), else the longest token lifetime. */
  async revokeToken(jti: string, expiresAt?: number): Promise<void> {
    if (typeof jti !== 'string' || jti.length === 0)
      throw new TypeError('revokeToken: jti must be a non-empty string');
    const latest = now() + this.options.maxTokenLifetime + this.options.clockTolerance;
    const until = Math.min(expiresAt ?? latest, latest);
    await storeCall(() => this.store.revokeToken(jti, until), this.metrics);
  }

  /** Revokes every token of `subject` issued at or before `issuedBefore` (default: now). */
  async revokeSubject(subject: string, issuedBefore: number = now()): Promise<void> {
    if (typeof subject !== 'string' || subject.length === 0)
      throw new TypeError('revokeSubject: subject must be a non-empty string');
    const retainUntil =
      issuedBefore + this.options.maxTokenLifetime + 2 * this.options.clockTolerance;
    const revoke = () => this.store.revokeSubject(subject, issuedBefore, retainUntil);
    await storeCall(revoke, this.metrics);
  }
}

/** A store call: a full store is reported and rethrown, other failures are 503s. @internal */
export async function storeCall<T>(
  call: () => Promise<T>,
  metrics: ZeroTrustMetrics,
  concern?: string,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StoreFullError) {
      reportStoreFull(error, metrics);
      throw error;
    }
    if (concern !== undefined) metrics.storeError(concern);
    throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
