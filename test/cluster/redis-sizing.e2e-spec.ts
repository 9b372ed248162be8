import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RevocationService, SharedStateStore } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningApp } from '../support/nest-app.js';
import {
  canSpawnRedis,
  privateRedis,
  testRedisClient,
  type PrivateRedis,
} from '../support/redis.js';
import { probe, scaleOutApp } from '../support/scale-out.js';

/*
 * What the Redis stores hold per principal, per revoked token or subject and per DPoP proof,
 * measured on an empty private Redis (MEMORY USAGE per key, INFO memory used_memory), for the
 * sizing figures in docs/scaling.md. It also checks that every key the library writes expires.
 */
const COUNT = 500;

interface Figures {
  keys: number;
  /** Sum of MEMORY USAGE over the new keys, per item (bytes). */
  bytesPerItem: number;
  /** used_memory growth per item (bytes), allocator overhead included. */
  usedPerItem: number;
}

describe.runIf(canSpawnRedis)('Redis sizing (measured)', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let issuer: TestIssuer;
  let api: ListeningApp;
  let risky: ListeningApp;
  const figures: Record<string, Figures> = {};

  beforeAll(async () => {
    redis = await privateRedis(['--maxmemory-policy', 'noeviction']);
    await redis.start();
    admin = testRedisClient(redis.url);
    await admin.connect();
    issuer = await TestIssuer.start();
    const store = { type: 'redis', url: redis.url } as const;
    api = await scaleOutApp(issuer, store, 'express');
    // Every built-in risk signal on, with its defaults: the state a principal's history takes.
    risky = await scaleOutApp(issuer, store, 'express', 1000, { risk: {} });
  });
  afterAll(async () => {
    console.info(`[sizing] ${JSON.stringify(figures)}`);
    await api?.app.close();
    await risky?.app.close();
    await issuer?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  /** Runs `work` for `COUNT` items and records what it added to Redis. */
  async function measure(name: string, work: (i: number) => Promise<unknown>): Promise<Figures> {
    const before = new Set(await admin.keys('*'));
    const usedBefore = await usedMemory();
    for (let i = 0; i < COUNT; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, j) => work(i + j)));
    const added = (await admin.keys('*')).filter((key) => !before.has(key));
    let bytes = 0;
    const forever: string[] = [];
    for (const key of added) {
      bytes += (await admin.memory('USAGE', key)) ?? 0;
      if ((await admin.ttl(key)) < 0) forever.push(key);
    }
    // Every key the library writes expires.
    expect(forever).toEqual([]);
    const result = {
      keys: added.length / COUNT,
      bytesPerItem: Math.round(bytes / COUNT),
      usedPerItem: Math.round(((await usedMemory()) - usedBefore) / COUNT),
    };
    figures[name] = result;
    return result;
  }

  async function usedMemory(): Promise<number> {
    const info = await admin.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1]);
  }

  it('per principal: two authenticated requests (rate limit counters)', async () => {
    const result = await measure('principal', async (i) => {
      const token = issuer.sign({ sub: `user-${i}` });
      expect(await probe(api.url, token)).toBe(200);
      expect(await probe(api.url, token)).toBe(200);
    });
    expect(result.keys).toBeGreaterThan(0);
    expect(result.keys).toBeLessThanOrEqual(3);
  });

  it('per principal with every risk signal on: two requests (histories, baselines, counters)', async () => {
    const result = await measure('principalWithRisk', async (i) => {
      const token = issuer.sign({ sub: `risky-${i}` });
      expect(await probe(risky.url, token)).toBe(200);
      expect(await probe(risky.url, token)).toBe(200);
    });
    expect(result.keys).toBeGreaterThan(2);
  });

  it('per revoked token, per revoked subject', async () => {
    const revocations = api.app.get(RevocationService);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    expect(
      (await measure('revokedToken', () => revocations.revokeToken(randomUUID(), exp))).keys,
    ).toBe(1);
    expect(
      (await measure('revokedSubject', (i) => revocations.revokeSubject(`subject-${i}`))).keys,
    ).toBe(1);
  });

  it('per DPoP proof (replay entry: thumbprint and jti)', async () => {
    const state = api.app.get<SharedStateStore>(SharedStateStore);
    const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'; // a SHA-256 thumbprint's length
    const result = await measure('dpopProof', () =>
      state.claimOnce(`replay:dpop:${jkt}:${randomUUID()}`, 65),
    );
    expect(result.keys).toBe(1);
  });
});
