import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { RevocationService } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/demo-api.js';
import type { ListeningApp } from '../support/nest-app.js';
import { freePort, privateRedis, randomKeyPrefix } from '../support/redis.js';
import {
  canSpawnTopologies,
  startRedisCluster,
  type TestRedisCluster,
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
 * A Redis Cluster of the test's own (three masters, a replica each, cluster-node-timeout 1 s),
 * started once for the file: the store contract, three API instances sharing it, and a master
 * killed mid-run. Skipped with a notice without a redis-server binary (support/redis.ts).
 */
let cluster: TestRedisCluster;
let issuer: TestIssuer;
let client: Cluster;
const nodeUrls = (): string[] => cluster.nodes.map(({ host, port }) => `redis://${host}:${port}`);

describe.runIf(canSpawnTopologies)('Redis Cluster, three masters and three replicas', () => {
  beforeAll(async () => {
    [cluster, issuer] = await Promise.all([startRedisCluster(3, 1), TestIssuer.start()]);
    client = await cluster.client();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await issuer?.close();
  });

  describe('the Redis stores', () => {
    storeContract(() => client, 1);
  });

  threeInstances(
    'cluster',
    () => ({ type: 'redis', cluster: nodeUrls(), keyPrefix: randomKeyPrefix() }),
    () => issuer,
  );

  describe('a master killed mid-run', () => {
    let apps: ListeningApp[] = [];
    const keyPrefix = randomKeyPrefix();
    beforeAll(async () => {
      const store = { type: 'redis', cluster: nodeUrls(), keyPrefix } as const;
      apps = await Promise.all(ADAPTERS.map((adapter) => scaleOutApp(issuer, store, adapter)));
    });
    afterAll(async () => {
      await Promise.all(apps.map(({ app }) => app.close()));
    });

    it('answers 503 while the slots have no master, forgets no revocation, resumes by itself; health follows', async () => {
      const [first] = apps.map(({ url }) => url) as [string];
      expect(await storeHealth(first)).toEqual({
        status: 'up',
        topology: 'cluster',
        state: 'ok',
        slotsServed: 16384,
        slotsAssigned: 16384,
        masters: 3,
        mastersDown: 0,
        mastersWithoutReplica: 0,
        maxmemoryPolicy: 'noeviction',
      });
      // The revoked token's jti and the valid token's subject live on the master to be killed.
      const revoked = issuer.sign({ sub: 'mallory' });
      const victim = await cluster.masterOf(`${keyPrefix}revocation:jti:${claimsOf(revoked).jti}`);
      let sub = 'alice';
      for (let i = 0; (await cluster.masterOf(`${keyPrefix}revocation:sub:${sub}`)) !== victim;)
        sub = `alice-${(i += 1)}`;
      const valid = issuer.sign({ sub });
      for (const { url } of apps) {
        expect(await probe(url, valid)).toBe(200);
        expect(await probe(url, revoked)).toBe(200);
      }
      const { jti, exp } = claimsOf(revoked);
      await apps[0]?.app.get(RevocationService).revokeToken(jti, exp);
      await victim.kill(); // right after the revocation was acknowledged
      const killedAt = Date.now();
      const seen = await observeFailover(
        apps.map(({ url }) => url),
        valid,
        revoked,
        killedAt,
      );
      // Fail closed: the valid token is refused with 503 (never served from a guess), the
      // revoked one never passes; then both instances serve again by themselves.
      expect(seen.filter((o) => o.token === 'revoked' && o.status === 200)).toEqual([]);
      expect(new Set(seen.map((o) => o.status))).toEqual(new Set([200, 401, 503]));
      for (const app of apps.keys()) {
        const valids = seen.filter((o) => o.app === app && o.token === 'valid');
        expect(valids.some((o) => o.status === 503)).toBe(true);
        expect(valids.at(-1)?.status).toBe(200);
      }
      const times = recoveryTimes(seen, apps.length);
      console.info(`[cluster] time to recover after a master was killed: ${times.join(', ')} ms`);
      for (const time of times) expect(time).toBeLessThan(30_000);
      // The replica serves the slots; the failed master is reported until it is back.
      await expect
        .poll(() => storeHealth(first), { timeout: 10_000 })
        .toMatchObject({ status: 'degraded', mastersDown: 1, mastersWithoutReplica: 1 });

      // Its replica, now master, dies too: the slots have no master at all → down, 503.
      const promoted = await cluster.masterOf(`${keyPrefix}revocation:sub:${sub}`);
      await promoted.kill();
      await expect
        .poll(() => storeHealth(first), { timeout: 10_000 })
        .toMatchObject({ status: 'down', state: 'fail' });
      for (const { url } of apps) expect(await probe(url, valid)).toBe(503);

      // Both come back (the first as the replica of the second): up again, nothing forgotten.
      await Promise.all([victim.restart(), promoted.restart()]);
      await cluster.healthy();
      await expect
        .poll(() => storeHealth(first), { timeout: 15_000 })
        .toMatchObject({ status: 'up', mastersDown: 0, mastersWithoutReplica: 0 });
      for (const { url } of apps) {
        await expect.poll(() => probe(url, valid), { timeout: 10_000 }).toBe(200);
        expect(await probe(url, revoked)).toBe(401);
      }
    }, 120_000);
  });
});

describe.runIf(canSpawnTopologies)('a Redis Cluster that answers without a slot map yet', () => {
  it('neither holds the boot nor a request: the app starts and answers 503 at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zt-cluster-'));
    // The bus port is chosen too: by default it is the port + 10000, maybe in the ephemeral range.
    const node = await privateRedis([
      '--cluster-port',
      String(await freePort()),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
    ]);
    await node.start();
    const slotless = await TestIssuer.start();
    try {
      const store = { type: 'redis' as const, cluster: [node.url], keyPrefix: randomKeyPrefix() };
      let started = Date.now();
      const { app, url } = await scaleOutApp(slotless, store, 'fastify');
      try {
        // The boot waits connectTimeout (2 s) at most; a request does not wait for slots.
        expect(Date.now() - started).toBeLessThan(15_000);
        started = Date.now();
        expect(await probe(url, slotless.sign({ sub: 'alice' }))).toBe(503);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await app.close();
      }
    } finally {
      await node.stop();
      await slotless.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
