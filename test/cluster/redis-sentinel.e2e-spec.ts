import type { Redis } from 'ioredis';
import { RevocationService } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/demo-api.js';
import type { ListeningApp } from '../support/nest-app.js';
import { randomKeyPrefix } from '../support/redis.js';
import {
  canSpawnTopologies,
  startSentinelGroup,
  type TestSentinelGroup,
} from '../support/redis-cluster.js';
import {
  claimsOf,
  observeFailover,
  probe,
  recoveryTimes,
  scaleOutApp,
  storeHealth,
  threeInstances,
} from '../support/scale-out.js';
import { storeContract } from '../support/store-contract.js';

/*
 * A Sentinel group of the test's own (a master, a replica, three sentinels with quorum 2 and
 * down-after 1 s), started once for the file: the store contract through the sentinels, and the
 * master killed mid-run under an instance on each adapter. Skipped with a notice without a
 * redis-server binary (support/redis.ts).
 */
let group: TestSentinelGroup;
let issuer: TestIssuer;
let client: Redis;

describe.runIf(canSpawnTopologies)('Redis behind Sentinel, a master and a replica', () => {
  beforeAll(async () => {
    [group, issuer] = await Promise.all([startSentinelGroup(1), TestIssuer.start()]);
    client = await group.client();
  }, 60_000);
  afterAll(async () => {
    await group?.stop();
    await issuer?.close();
  });

  describe('the Redis stores', () => {
    storeContract(() => client, 1);
  });

  threeInstances(
    'Sentinel group',
    () => ({
      type: 'redis',
      sentinels: group.sentinels.map(({ host, port }) => `redis://${host}:${port}`),
      name: group.name,
      keyPrefix: randomKeyPrefix(),
    }),
    () => issuer,
  );

  describe('the master killed mid-run', () => {
    let apps: ListeningApp[] = [];
    beforeAll(async () => {
      const store = {
        type: 'redis',
        sentinels: group.sentinels.map(({ host, port }) => `redis://${host}:${port}`),
        name: group.name,
        keyPrefix: randomKeyPrefix(),
      } as const;
      apps = await Promise.all(ADAPTERS.map((adapter) => scaleOutApp(issuer, store, adapter)));
    });
    afterAll(async () => {
      await Promise.all(apps.map(({ app }) => app.close()));
    });

    it('answers 503 until the sentinels promote the replica, forgets no revocation, resumes by itself; health follows', async () => {
      const [first] = apps.map(({ url }) => url) as [string];
      expect(await storeHealth(first)).toEqual({
        status: 'up',
        topology: 'sentinel',
        role: 'master',
        replicas: 1,
        maxmemoryPolicy: 'noeviction',
      });
      const valid = issuer.sign({ sub: 'alice' });
      const revoked = issuer.sign({ sub: 'mallory' });
      for (const { url } of apps) {
        expect(await probe(url, valid)).toBe(200);
        expect(await probe(url, revoked)).toBe(200);
      }
      const { jti, exp } = claimsOf(revoked);
      await apps[0]?.app.get(RevocationService).revokeToken(jti, exp);
      const master = await group.master();
      await master.kill(); // right after the revocation was acknowledged
      const killedAt = Date.now();
      const seen = await observeFailover(
        apps.map(({ url }) => url),
        valid,
        revoked,
        killedAt,
      );
      expect(seen.filter((o) => o.token === 'revoked' && o.status === 200)).toEqual([]);
      expect(new Set(seen.map((o) => o.status))).toEqual(new Set([200, 401, 503]));
      for (const app of apps.keys()) {
        const valids = seen.filter((o) => o.app === app && o.token === 'valid');
        expect(valids.some((o) => o.status === 503)).toBe(true);
        expect(valids.at(-1)?.status).toBe(200);
      }
      const times = recoveryTimes(seen, apps.length);
      console.info(
        `[sentinel] time to recover after the master was killed: ${times.join(', ')} ms`,
      );
      for (const time of times) expect(time).toBeLessThan(30_000);
      expect(await group.master()).not.toBe(master);
      // The new master has no replica until the old one is back.
      await expect
        .poll(() => storeHealth(first), { timeout: 10_000 })
        .toMatchObject({ status: 'degraded', role: 'master', replicas: 0 });
      // No replica can hold a revocation now: it is in force on the master and resolves anyway
      // (WAIT gives up after commandTimeout / 2, with a warning in the log).
      const lonely = issuer.sign({ sub: 'eve' });
      await apps[0]?.app.get(RevocationService).revokeSubject('eve');
      for (const { url } of apps) expect(await probe(url, lonely)).toBe(401);
      await master.restart();
      await expect
        .poll(() => storeHealth(first), { timeout: 30_000, interval: 250 })
        .toMatchObject({ status: 'up', replicas: 1 });
      for (const { url } of apps) {
        expect(await probe(url, valid)).toBe(200);
        expect(await probe(url, revoked)).toBe(401);
        expect(await probe(url, lonely)).toBe(401);
      }
    }, 120_000);
  });
});
