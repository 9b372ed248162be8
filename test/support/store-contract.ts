import type { Cluster, Redis } from 'ioredis';
import { RedisRevocationStore, RedisSharedStateStore } from 'nestjs-zero-trust';
import { beforeEach, expect, it } from 'vitest';
import { randomKeyPrefix } from './redis.js';

/** The keys matching `pattern` on a server, or on every master of a cluster. */
export async function keysOf(client: Redis | Cluster, pattern: string): Promise<string[]> {
  if (!client.isCluster) return client.keys(pattern);
  const masters = (client as Cluster).nodes('master');
  return (await Promise.all(masters.map((master) => master.keys(pattern)))).flat();
}

/**
 * What the Redis stores promise, on any Redis the client reaches (one server, a cluster, a
 * Sentinel master): call it inside a `describe` whose hooks have connected the client.
 * `replicaAcks`: replicas each revocation waits for (Redis WAIT).
 */
export function storeContract(connected: () => Redis | Cluster, replicaAcks = 0): void {
  const client = connected;
  let prefix: string;
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeEach(() => {
    prefix = randomKeyPrefix();
  });

  /** Every key under this test's prefix, with its remaining time to live (seconds). */
  async function ttls(): Promise<Record<string, number>> {
    const keys = await keysOf(client(), `${prefix}*`);
    const result: Record<string, number> = {};
    for (const key of keys) result[key.slice(prefix.length)] = await client().ttl(key);
    return result;
  }

  it('revokes a jti and a subject, in expiring keys under the prefix', async () => {
    const store = new RedisRevocationStore(client(), prefix, replicaAcks);
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
    const store = new RedisRevocationStore(client(), prefix, replicaAcks);
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
    const store = new RedisRevocationStore(client(), prefix, replicaAcks);
    const t = now();
    await store.revokeIssuedBefore('sub', 'bob', t - 5, t + 300);
    await store.revokeIssuedBefore('sub', 'bob', t - 50, t + 100);
    expect(await store.isRevoked({ jti: 'x', sub: 'bob', iat: t - 10 })).toBe(true);
    expect((await ttls())['revocation:sub:bob']).toBeGreaterThan(200);
    await store.revokeToken('old', t - 1);
    expect(await store.isRevoked({ jti: 'old', sub: 'x', iat: t })).toBe(false);
  });

  it('claims once, counts in a window, keeps values, sets and capped lists, all expiring', async () => {
    const store = new RedisSharedStateStore(client(), prefix);
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
    const store = new RedisSharedStateStore(client(), prefix);
    const counts = await Promise.all(Array.from({ length: 50 }, () => store.increment('c', 60)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
}
