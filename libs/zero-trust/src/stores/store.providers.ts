import type { Provider } from '@nestjs/common';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { REDIS_STORE_CONNECTION, ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { failOpenRevocations, failOpenState } from './fail-open.js';
import { MemoryRevocationStore } from './memory/memory-revocation.store.js';
import { MemorySharedStateStore } from './memory/memory-shared-state.store.js';
import { RedisStoreConnection } from './redis/redis-connection.js';
import { RedisRevocationStore } from './redis/redis-revocation.store.js';
import { RedisSharedStateStore } from './redis/redis-shared-state.store.js';
import { RevocationStore } from './revocation-store.interface.js';
import { SharedStateStore } from './shared-state-store.interface.js';

/** The stores of the `store` option, and the Redis connection (null unless redis). @internal */
export const storeProviders: Provider[] = [
  {
    provide: REDIS_STORE_CONNECTION,
    useFactory: (options: ResolvedZeroTrustOptions) =>
      options.store.type === 'redis' ? RedisStoreConnection.open(options.store) : null,
    inject: [ZERO_TRUST_OPTIONS],
  },
  {
    provide: RevocationStore,
    useFactory: (options: ResolvedZeroTrustOptions, redis: RedisStoreConnection) => {
      const { store } = options;
      if (store.type === 'custom') return store.revocations;
      if (store.type === 'memory')
        return new MemoryRevocationStore({ maxEntries: store.limits.revocations });
      const acks = store.replicaAcks ?? Number(!!(store.cluster ?? store.sentinels));
      const wait = store.commandTimeout / 2; // WAIT ends before the command times out
      const revocations = new RedisRevocationStore(redis.client, store.keyPrefix, acks, wait);
      return store.failOpen.revocation ? failOpenRevocations(revocations) : revocations;
    },
    inject: [ZERO_TRUST_OPTIONS, REDIS_STORE_CONNECTION],
  },
  {
    provide: SharedStateStore,
    useFactory: (options: ResolvedZeroTrustOptions, redis: RedisStoreConnection) => {
      const { store } = options;
      if (store.type === 'custom') return store.state ?? new MemorySharedStateStore();
      if (store.type === 'memory')
        return new MemorySharedStateStore({
          maxReplayKeys: store.limits.replay,
          maxAddressKeys: store.limits.addresses,
          maxPrincipalKeys: store.limits.principals,
        });
      const state = new RedisSharedStateStore(redis.client, store.keyPrefix);
      return store.failOpen.state ? failOpenState(state) : state;
    },
    inject: [ZERO_TRUST_OPTIONS, REDIS_STORE_CONNECTION],
  },
];

/** An in-process shared-state store on the given clock, for tests of risk signals. @internal */
export function testSharedStateStore(now: () => number): SharedStateStore {
  return new MemorySharedStateStore({ now });
}
