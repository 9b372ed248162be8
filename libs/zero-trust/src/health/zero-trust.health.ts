import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { JwksKeySource } from '../identity/jwks-key-source.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { inspectRedis } from '../scale-out/redis-topology-health.js';
import type { RedisStoreClient } from '../scale-out/redis-topology.js';
import { SharedStateStore } from '../stores/shared-state-store.interface.js';
import { REDIS_STORE_CONNECTION, ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/**
 * Terminus health indicators: the issuer's keys and the shared store. Provide it in a module that
 * imports `TerminusModule` (and `ZeroTrustModule`). @publicApi
 */
@Injectable()
export class ZeroTrustHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly keys: JwksKeySource,
    @Inject(SharedStateStore) private readonly state: SharedStateStore,
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly metrics: ZeroTrustMetrics,
    @Optional()
    @Inject(REDIS_STORE_CONNECTION)
    private readonly redis: { client: RedisStoreClient } | null = null,
  ) {}

  /** The issuer's keys: `degraded` while cached keys serve, `down` with none or too old ones. */
  async issuer<const Key extends string = 'zero_trust_issuer'>(
    key: Key = 'zero_trust_issuer' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const check = this.indicator.check(key);
    const before = this.keys.status();
    const age = (at: Date | undefined): number | null =>
      at === undefined ? null : Math.max(0, (Date.now() - at.getTime()) / 1000);
    const staleAge = age(before.refreshedAt);
    if (staleAge === null || !before.usable || staleAge > this.options.jwks.maxAge / 2)
      await this.keys.refresh().catch(() => undefined);
    const status = this.keys.status();
    const ageSeconds = age(status.refreshedAt);
    const details = {
      keys: status.keys,
      refreshedAt: status.refreshedAt?.toISOString() ?? null,
      ageSeconds: ageSeconds === null ? null : Math.round(ageSeconds),
      reachable: !status.lastFetchFailed,
    };
    if (status.keys === 0 || ageSeconds === null)
      return check.down({ ...details, message: 'no key of the issuer could be fetched' });
    // Past jwks.maxAge the keys no longer verify anything: requests already fail closed.
    if (!status.usable || ageSeconds > this.options.monitoring.health.maxKeyAge)
      return check.down({ ...details, message: "the issuer's keys are older than allowed" });
    const message = 'the issuer is unreachable; cached keys serve';
    if (status.lastFetchFailed) return check.degraded({ ...details, message });
    return check.up(details);
  }

  /**
   * The shared store: `down` when it does not answer, Redis is not `noeviction` or a cluster slot
   * has no master; `degraded` when a master is down or has no replica (cluster, Sentinel).
   */
  async store<const Key extends string = 'zero_trust_store'>(
    key: Key = 'zero_trust_store' as Key,
    timeoutMs = 2000,
  ): Promise<HealthIndicatorResult<Key>> {
    const check = this.indicator.check(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => (timer = setTimeout(reject, timeoutMs)));
    try {
      await Promise.race([this.state.ping(), timeout]);
    } catch {
      this.metrics.storeError('state');
      return check.down({ message: 'the shared state store does not answer' });
    } finally {
      clearTimeout(timer);
    }
    if (this.redis === null) return check.up();
    const { status, details } = await inspectRedis(this.redis.client);
    if (status === 'up') return check.up(details);
    return status === 'down' ? check.down(details) : check.degraded(details);
  }
}
