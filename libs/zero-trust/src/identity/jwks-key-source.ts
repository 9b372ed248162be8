import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { DependencyUnavailableError, InvalidTokenError } from '../errors/zero-trust.error.js';
import { isAcceptableKeyUrl, type ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { discoverMetadata, fetchJson } from '../utils/http-json.js';

/** One verification key of the issuer, imported once. */
interface IssuerKey {
  readonly kid: string | undefined;
  /** The algorithms this key may verify (bound to the key, RFC 8725 §3.1). */
  readonly algorithms: readonly string[];
  readonly key: KeyObject;
  readonly fingerprint: string;
}

/** The state of the key cache, for health checks and diagnostics. @publicApi */
export interface KeySetStatus {
  /** Number of usable keys. */
  keys: number;
  /** When the key set was last fetched successfully. */
  refreshedAt: Date | undefined;
  /** Incremented on every successful refresh. */
  version: number;
  /** Number of fetches of the key set attempted so far. */
  fetches: number;
  /** Whether tokens can be verified now: keys loaded and not older than `jwks.maxAge`. */
  usable: boolean;
  /** Whether the last fetch failed (the issuer was unreachable or answered badly). */
  lastFetchFailed: boolean;
}

/** Algorithms a key may verify by its type (and curve), when its JWK names no `alg`. */
const ALGORITHMS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'EC:P-256': ['ES256'],
  'EC:P-384': ['ES384'],
  'EC:P-521': ['ES512'],
};

/**
 * The issuer's signing keys from its JWKS. An unknown `kid` refetches at most once per cooldown;
 * past `jwks.maxAge` requests fail closed with 503 (an outage never extends a withdrawn key).
 * @publicApi
 */
@Injectable()
export class JwksKeySource {
  private readonly logger = new Logger('ZeroTrust');
  private keys: IssuerKey[] = [];
  private refreshedAt = 0;
  private lastAttempt = 0;
  private version = 0;
  private fetches = 0;
  private inflight: Promise<void> | undefined;
  private failing = false;
  private jwksUri: string | undefined;

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    @Optional() private readonly metrics?: ZeroTrustMetrics,
  ) {}

  /** Whether `key` is still published: a key removed from the JWKS stops vouching for tokens. */
  isCurrent(key: KeyObject): boolean {
    return !this.expired(Date.now()) && this.keys.some((known) => known.key === key);
  }

  /** Whether a key set was fetched and is now older than `jwks.maxAge`. */
  private expired(now: number): boolean {
    return this.refreshedAt !== 0 && now - this.refreshedAt > this.options.jwks.maxAge * 1000;
  }

  /** Current status of the key cache. */
  status(): KeySetStatus {
    return {
      keys: this.keys.length,
      refreshedAt: this.refreshedAt ? new Date(this.refreshedAt) : undefined,
      version: this.version,
      fetches: this.fetches,
      usable: this.keys.length > 0 && !this.expired(Date.now()),
      lastFetchFailed: this.failing,
    };
  }

  /** Fetches the key set now (merged with one in flight), or throws a 503 error. */
  refresh(): Promise<void> {
    // After a failed fetch, at most one attempt a second: a public health endpoint's traffic
    // must not become traffic against a struggling issuer.
    if (this.inflight === undefined && this.failing && Date.now() - this.lastAttempt < 1000)
      return Promise.reject(new DependencyUnavailableError('ZT_KEYS_UNAVAILABLE'));
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The key for a token with this header, else `ZT_TOKEN_KEY_UNKNOWN` or `ZT_KEYS_UNAVAILABLE`. */
  async getKey(kid: string | undefined, alg: string): Promise<KeyObject> {
    const now = Date.now();
    if (this.refreshedAt === 0 || this.expired(now)) {
      // No usable set: refetch, at most once a second; until a fetch succeeds, fail closed.
      if (now - this.lastAttempt < 1000 && this.inflight === undefined)
        throw new DependencyUnavailableError('ZT_KEYS_UNAVAILABLE');
      await this.refresh();
    } else if (now - this.refreshedAt > this.options.jwks.maxAge * 500 && this.cooled(now)) {
      // Aging: refresh in the background, serving the current set meanwhile.
      void this.refreshQuietly();
    }
    let key = this.find(kid, alg);
    if (key === undefined && kid !== undefined && this.cooled(now)) {
      await this.refreshQuietly();
      key = this.find(kid, alg);
    }
    if (key === undefined) throw new InvalidTokenError('ZT_TOKEN_KEY_UNKNOWN');
    return key;
  }

  /** Whether `jwks.cooldown` has passed since the last fetch attempt. */
  private cooled(now: number): boolean {
    return now - this.lastAttempt >= this.options.jwks.cooldown * 1000;
  }

  private find(kid: string | undefined, alg: string): KeyObject | undefined {
    const matches = this.keys.filter(
      (key) => (kid === undefined || key.kid === kid) && key.algorithms.includes(alg),
    );
    // Without a kid, exactly one key may match: never try several keys in turn.
    return kid === undefined && matches.length > 1 ? undefined : matches[0]?.key;
  }

  /** Refreshes while a usable set serves; a failure is only logged. */
  private async refreshQuietly(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      const { cause } = error as Error;
      const reason = (cause instanceof Error ? cause : (error as Error)).message;
      this.logger.warn(`JWKS refresh failed; serving the last good key set (${reason})`);
    }
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttempt = Date.now();
    this.fetches += 1;
    try {
      const bounds = { timeoutMs: this.options.jwks.timeout * 1000 };
      this.jwksUri ??= this.options.jwksUri;
      if (this.jwksUri === undefined) {
        const { jwks_uri: uri } = await discoverMetadata(this.options.issuer, bounds);
        if (typeof uri !== 'string' || !isAcceptableKeyUrl(uri))
          throw new Error(
            'the discovery document has no acceptable jwks_uri (https, or http on loopback)',
          );
        this.jwksUri = uri;
      }
      const { keys: set } = await fetchJson(this.jwksUri, bounds);
      if (!Array.isArray(set)) throw new Error('the key set has no "keys" array');
      // A key already known keeps its KeyObject: imported once, and cached tokens stay current.
      const keys = (set as unknown[])
        .map((entry) => this.importKey(entry))
        .filter((key) => key !== undefined);
      if (keys.length === 0) throw new Error('the key set holds no usable signing key');
      this.keys = keys;
      this.refreshedAt = Date.now();
      this.version += 1;
      this.failing = false;
      this.metrics?.observeJwksRefresh('success', keys.length, new Date(this.refreshedAt));
    } catch (error) {
      this.failing = true;
      this.metrics?.observeJwksRefresh('failure');
      throw new DependencyUnavailableError('ZT_KEYS_UNAVAILABLE', error);
    }
  }

  private importKey(entry: unknown): IssuerKey | undefined {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const jwk = entry as JsonWebKey & { kid?: unknown; use?: unknown; key_ops?: unknown };
    if ('d' in jwk || 'p' in jwk || 'k' in jwk) {
      this.logger.warn(
        'The issuer publishes private key material in its JWKS; that key is ignored',
      );
      return undefined;
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
    if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return undefined;
    const type = jwk.kty === 'EC' ? `EC:${jwk.crv}` : String(jwk.kty);
    const algorithms = (typeof jwk.alg === 'string' ? [jwk.alg] : (ALGORITHMS[type] ?? [])).filter(
      (alg) => (this.options.algorithms as readonly string[]).includes(alg),
    );
    if (algorithms.length === 0) return undefined;
    const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
    const { kty, crv, n, e, x, y } = jwk;
    const fingerprint = JSON.stringify([kid, algorithms, kty, crv, n, e, x, y]);
    const known = this.keys.find((key) => key.fingerprint === fingerprint);
    if (known !== undefined) return known;
    try {
      return { kid, algorithms, key: createPublicKey({ key: jwk, format: 'jwk' }), fingerprint };
    } catch {
      return undefined;
    }
  }
}
