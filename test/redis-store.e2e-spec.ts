import type { Redis } from 'ioredis';
import { RedisRevocationStore, RedisSharedStateStore, StoreFullError } from 'nestjs-zero-trust';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canSpawnRedis,
  privateRedis,
  redisReady,
  testRedisClient,
  type PrivateRedis,
} from './support/redis.js';
import { storeContract } from './support/store-contract.js';

describe.runIf(redisReady)('Redis stores (shared Redis)', () => {
  let client: Redis;
  beforeAll(async () => {
    client = testRedisClient();
    await client.connect();
  });
  afterAll(() => client.disconnect());
  storeContract(() => client);
});

describe.runIf(canSpawnRedis)('Redis stores when Redis is full (noeviction)', () => {
  let redis: PrivateRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await privateRedis(['--maxmemory-policy', 'noeviction']);
    await redis.start();
    client = testRedisClient(redis.url);
    await client.connect();
    // Any memory in use is over this limit: every write is refused with OOM, none evicts.
    await client.config('SET', 'maxmemory', '1');
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('refuses a new replay entry or revocation with ZT_STORE_FULL, other writes with their error', async () => {
    const state = new RedisSharedStateStore(client, 'zt:');
    await expect(state.claimOnce('replay:dpop:k:j', 60)).rejects.toBeInstanceOf(StoreFullError);
    await expect(state.claimOnce('replay:dpop:k:j', 60)).rejects.toMatchObject({
      code: 'ZT_STORE_FULL',
      concern: 'replay',
    });
    // Not a replay entry: the store's ordinary failure (503 ZT_STORE_UNAVAILABLE upstream).
    const other = await state.set('zt:risk:geo:user:a', 'x', 60).catch((error: unknown) => error);
    expect(other).not.toBeInstanceOf(StoreFullError);
    expect(other).toBeInstanceOf(Error);
    const revocations = new RedisRevocationStore(client, 'zt:');
    await expect(
      revocations.revokeToken('j', Math.floor(Date.now() / 1000) + 60),
    ).rejects.toMatchObject({ code: 'ZT_STORE_FULL', concern: 'revocation' });
  });
});
