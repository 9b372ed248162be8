import type { Redis } from 'ioredis';
import { RedisRevocationStore, RedisSharedStateStore, StoreFullError } from 'nestjs-zero-trust';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  canSpawnRedis,
  privateRedis,
  redisReady,
  randomKeyPrefix,
  testRedisClient,
  type PrivateRedis,
} from './support/redis.js';

describe.runIf(redisReady)('Redis stores (shared Redis)', () => {
  let client: Redis;
  let prefix: string;
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    client = testRedisClient();
    await client.connect();
  });
  afterAll(() => client.disconnect());
  beforeEach(() => {
    prefix = randomKeyPrefix();
  });

  /** Every key under this test's prefix, with its remaining time to live (seconds). */
  async function ttls(): Promise<Record<string, number>> {
    const keys = await client.keys(`${prefix}*`);
    const result: Record<string, number> = {};
    for (const key of keys) result[key.slice(prefix.length)] = await client.ttl(key);
    return result;
  }

  it('revokes a jti and a subject, in expiring keys under the prefix', async () => {
    const store = new RedisRevocationStore(client, prefix);
    await store.revokeToken('j1', now() + 100);
    await store.revokeIssuedBefore('sub', 'bob', now(), now() + 200);
    expect(await store.isRevoked({ jti: 'j1', sub: 'alice', iat: now() })).toBe(true);
    expect(await store.isRevoked({ jti: 'j2', sub: 'alice', iat: now() })).toBe(false);
    expect(await store.isRevoked({ jti: 'j3', sub: 'bob', iat: now() - 10 })).toBe(true);
    expect(await store.isRevoked({ jti: 'j4', sub: 'bob', iat: now() + 10 })).toBe(false);
    const keys = await ttls();
    expect(Object.keys(keys).sort()).toEqual(['revocation:jti:j1', 'revocation:sub:bob']);
    expect(keys['revocation:jti:j1']).toBeGreaterThan(90);
    expect(keys['revocation:sub:bob']).toBeGreaterThan(190);
  });

  it('revokes by IdP session and by grant, and a token refreshed from a login before the cutoff', async () => {
    const store = new RedisRevocationStore(client, prefix);
    const t = now();
    await store.revokeIssuedBefore('sid', 's-1', t, t + 200);
    await store.revokeIssuedBefore('grant', 'g-1', t, t + 200);
    const later = { jti: 'j', sub: 'bob', iat: t + 1 };
    expect(await store.isRevoked({ ...later, sid: 's-1', iat: t - 1 })).toBe(true);
    expect(await store.isRevoked({ ...later, sid: 's-1', authTime: t - 100 })).toBe(true);
    expect(await store.isRevoked({ ...later, sid: 's-1', authTime: t + 1 })).toBe(false);
    expect(await store.isRevoked({ ...later, sid: 's-2', iat: t - 1 })).toBe(false);
    expect(await store.isRevoked({ ...later, grant: 'g-1', authTime: t })).toBe(true);
    expect(await store.isRevoked({ jti: 'k', sub: 's-1', iat: t - 1 })).toBe(false);
    expect(Object.keys(await ttls()).sort()).toEqual([
      'revocation:grant:g-1',
      'revocation:sid:s-1',
    ]);
  });

  it('never shortens a revocation, and skips one that has already lapsed', async () => {
    const store = new RedisRevocationStore(client, prefix);
    const t = now();
    await store.revokeIssuedBefore('sub', 'bob', t - 5, t + 300);
    await store.revokeIssuedBefore('sub', 'bob', t - 50, t + 100);
    expect(await store.isRevoked({ jti: 'x', sub: 'bob', iat: t - 10 })).toBe(true);
    expect((await ttls())['revocation:sub:bob']).toBeGreaterThan(200);
    await store.revokeToken('old', t - 1);
    expect(await store.isRevoked({ jti: 'old', sub: 'x', iat: t })).toBe(false);
  });

  it('claims once, counts in a window, keeps values, sets and capped lists, all expiring', async () => {
    const store = new RedisSharedStateStore(client, prefix);
    expect(await store.claimOnce('dpop:a', 60)).toBe(true);
    expect(await store.claimOnce('dpop:a', 60)).toBe(false);
    expect(await store.increment('count', 30)).toBe(1);
    expect(await store.increment('count', 30)).toBe(2);
    await store.set('value', 'v', 45);
    expect(await store.get('value')).toBe('v');
    expect(await store.get('absent')).toBeUndefined();
    expect(await store.addToSet('set', 'a', 50)).toBe(true);
    expect(await store.addToSet('set', 'a', 50)).toBe(false);
    expect(await store.hasMember('set', 'a')).toBe(true);
    expect(await store.hasMember('set', 'b')).toBe(false);
    for (const item of ['1', '2', '3']) await store.pushCapped('list', item, 2, 40);
    expect(await store.list('list')).toEqual(['3', '2']);
    expect(await store.list('none')).toEqual([]);
    await store.ping();
    const keys = await ttls();
    expect(Object.keys(keys).sort()).toEqual(['count', 'dpop:a', 'list', 'set', 'value']);
    for (const ttl of Object.values(keys)) expect(ttl).toBeGreaterThan(0);
    expect(keys.count).toBeLessThanOrEqual(30);
  });

  it('counts concurrent increments exactly', async () => {
    const store = new RedisSharedStateStore(client, prefix);
    const counts = await Promise.all(Array.from({ length: 50 }, () => store.increment('c', 60)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
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
