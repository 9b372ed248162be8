import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { hash, type KeyObject } from 'node:crypto';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import type { Principal } from './principal.interface.js';

/** A token that passed every check once, with the key that verified it. @internal */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly key: KeyObject;
}

/** Bounded cache of verified tokens by digest, never past `exp`; the caller rechecks. @internal */
@Injectable()
export class VerifiedTokenCache {
  /** Absent when `tokenCache.max` is 0. */
  private readonly cache: LRUCache<string, VerifiedToken> | undefined;

  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {
    const { max } = options.tokenCache;
    this.cache = max > 0 ? new LRUCache({ max }) : undefined;
  }

  /** Digest of a token, the cache key. */
  digest(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(digest: string): VerifiedToken | undefined {
    return this.cache?.get(digest);
  }

  set(digest: string, entry: VerifiedToken): void {
    const ttl = Math.floor(
      (entry.principal.token.exp + this.options.clockTolerance) * 1000 - Date.now(),
    );
    // lru-cache reads a TTL of 0 as "forever": a token at its expiry is not cached at all.
    if (ttl > 0) this.cache?.set(digest, entry, { ttl });
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.cache?.size ?? 0;
  }
}
