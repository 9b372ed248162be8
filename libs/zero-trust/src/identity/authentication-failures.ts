import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ZeroTrustMetrics } from '../audit/metrics/zero-trust.metrics.js';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import { DependencyUnavailableError, RateLimitedError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ADDRESS_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/**
 * Limits failed authentications per client address (option `authenticationFailures`): after
 * `max` refused credentials from one address within `window` seconds, that address is answered
 * 429 before any token work until the window ends. Per-principal rate limits cannot do this: a
 * refused token has no principal. Counts live in the {@link SharedStateStore}, so every instance
 * sees them.
 *
 * @internal
 */
@Injectable()
export class AuthenticationFailureLimiter {
  private readonly logger = new Logger('ZeroTrust');

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    @Inject(SharedStateStore) private readonly store: SharedStateStore,
    private readonly metrics: ZeroTrustMetrics,
  ) {}

  /** Whether the limit is configured. */
  get enabled(): boolean {
    return this.options.authenticationFailures !== undefined;
  }

  /**
   * Refuses an address that has used up its failures.
   *
   * @throws {RateLimitedError} 429 `ZT_RATE_LIMITED` when the address is over the limit
   * @throws {DependencyUnavailableError} 503 `ZT_STORE_UNAVAILABLE` when the store fails
   */
  async assertAllowed(context: ZeroTrustRequestContext): Promise<void> {
    const limit = this.options.authenticationFailures;
    if (limit === undefined || context.ip === undefined) return;
    let count: string | undefined;
    try {
      count = await this.store.get(this.key(context.ip));
    } catch (error) {
      this.metrics.storeError('authentication_failures');
      throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    }
    if (count !== undefined && Number(count) >= limit.max) {
      throw new RateLimitedError(limit.window);
    }
  }

  /** Counts one refused credential for the request's address; never throws. */
  recordFailure(context: ZeroTrustRequestContext): void {
    const limit = this.options.authenticationFailures;
    if (limit === undefined || context.ip === undefined) return;
    this.store.increment(this.key(context.ip), limit.window).catch((error: unknown) => {
      this.metrics.storeError('authentication_failures');
      this.logger.warn(
        `A failed authentication was not counted: ${error instanceof Error ? error.message : 'store error'}`,
      );
    });
  }

  private key(ip: string): string {
    // Hashed: addresses are personal data, and IPv6 text may be long. Of the `addr:` class:
    // unauthenticated requests create it, so it must never evict principal state.
    const digest = createHash('sha256').update(ip).digest('base64url').slice(0, 22);
    return `${ADDRESS_KEY_PREFIX}authn-fail:${digest}`;
  }
}
