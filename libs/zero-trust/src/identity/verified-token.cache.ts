import { Inject, Injectable } from '@nestjs/common';
import { hash, type KeyObject } from 'node:crypto';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { LruCache } from '../utils/lru-cache.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import type { Principal } from './principal.interface.js';

/**
 * A token that passed every check once, with the key that verified it.
 *
 * @internal
 */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly key: KeyObject;
}

/**
 * Bounded cache of verified tokens, keyed by a SHA-256 digest of the token (the token itself is
 * never kept). A hit skips parsing and signature verification only: the caller still checks
 * expiry, that the verifying key is still published, and revocation, on every request.
 * An entry never outlives the token's `exp`.
 *
 * @internal
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly cache: LruCache<string, VerifiedToken>;

  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {
    this.cache = new LruCache(options.tokenCache.max, options.maxTokenLifetime * 1000);
  }

  /** Digest of a token, the cache key (one-shot hashing: no Hash object per request). */
  digest(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(digest: string): VerifiedToken | undefined {
    return this.cache.get(digest);
  }

  set(digest: string, entry: VerifiedToken): void {
    const ttl = (entry.principal.token.exp + this.options.clockTolerance) * 1000 - Date.now();
    this.cache.set(digest, entry, ttl);
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.cache.size;
  }
}
