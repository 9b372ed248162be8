import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import {
  DependencyUnavailableError,
  messageOf,
  RateLimitedError,
  type ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ADDRESS_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/**
 * Limits failed authentications per client address (`authenticationFailures`). A verified token
 * always passes: an address is shared, so others' failures never refuse a proven principal.
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

  /** For a 401: 429 once its address used up its failures, else `refused` (counted if a token). */
  async answerTo(
    context: ZeroTrustRequestContext,
    refused: ZeroTrustError,
  ): Promise<ZeroTrustError> {
    const limit = this.options.authenticationFailures;
    if (limit === undefined || context.ip === undefined || refused.getStatus() !== 401)
      return refused;
    // Hashed: addresses are personal data, and IPv6 text may be long. Of the `addr:` class:
    // unauthenticated requests create it, so it must never evict principal state.
    const digest = createHash('sha256').update(context.ip).digest('base64url').slice(0, 22);
    const key = `${ADDRESS_KEY_PREFIX}authn-fail:${digest}`;
    let count: string | undefined;
    try {
      count = await this.store.get(key);
    } catch (error) {
      this.metrics.storeError('authentication_failures');
      return new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    }
    if (count !== undefined && Number(count) >= limit.max)
      return new RateLimitedError(limit.window);
    // Counted in the background: a store failure here never changes the answer.
    if (refused.code !== 'ZT_TOKEN_MISSING')
      this.store.increment(key, limit.window).catch((error: unknown) => {
        this.metrics.storeError('authentication_failures');
        this.logger.warn(`A failed authentication was not counted: ${messageOf(error)}`);
      });
    return refused;
  }
}
