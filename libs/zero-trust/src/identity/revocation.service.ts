import { Inject, Injectable } from '@nestjs/common';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { DependencyUnavailableError, StoreFullError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { RevocationStore, type RevocationScope } from '../stores/revocation-store.interface.js';
import { reportStoreFull } from '../stores/store-full.js';
import { announceRevoked } from '../transports/revocations.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/** Revokes a token, or every token of a subject, an IdP session or a grant. @publicApi */
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
    announceRevoked(this, { jti });
  }

  /** Cuts off every token of `subject` issued or authenticated up to `issuedBefore` (now). */
  revokeSubject(subject: string, issuedBefore?: number): Promise<void> {
    return this.cutOff('sub', subject, issuedBefore);
  }

  /** Cuts off every token of the identity provider session `sid`, as {@link revokeSubject}. */
  revokeSession(sid: string, issuedBefore?: number): Promise<void> {
    return this.cutOff('sid', sid, issuedBefore);
  }

  /** Cuts off every token of a grant (claim `principals.grantClaim`), as {@link revokeSubject}. */
  async revokeGrant(grant: string, issuedBefore?: number): Promise<void> {
    // Recorded without the claim, it would match no token: a revocation that revokes nothing.
    if (this.options.principals.grantClaim === undefined)
      throw new TypeError('revokeGrant: principals.grantClaim must name the claim of the grant');
    await this.cutOff('grant', grant, issuedBefore);
  }

  private async cutOff(scope: RevocationScope, id: string, before = now()): Promise<void> {
    if (typeof id !== 'string' || id.length === 0 || !Number.isFinite(before))
      throw new TypeError(`revoke (${scope}): a non-empty string id and a time are needed`);
    const until = before + this.options.maxTokenLifetime + 2 * this.options.clockTolerance;
    await storeCall(() => this.store.revokeIssuedBefore(scope, id, before, until), this.metrics);
    announceRevoked(this, { scope, id, before });
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

const now = (): number => Math.floor(Date.now() / 1000);
