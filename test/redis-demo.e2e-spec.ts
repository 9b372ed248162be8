import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from './support/demo-api.js';
import {
  canSpawnRedis,
  redisReady,
  freePort,
  privateRedis,
  randomKeyPrefix,
  REDIS_URL,
  type PrivateRedis,
} from './support/redis.js';

/** Unhandled rejections seen while a test runs: the app must never leave one behind. */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startDemoIssuer();
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await issuer?.close();
});
beforeEach(() => {
  unhandled.length = 0;
});
afterEach(() => {
  if (unhandled.length > 0) throw new Error(`${unhandled.length} unhandled rejection(s)`);
});

const tokenOf = (sub: string, roles = ['customer']): string => issuer.sign({ sub, roles });

/** Waits (at most 10 s) until the instance's health check, which pings Redis, answers 200. */
async function ready(api: RunningApi): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await call(api, 'GET', '/health')).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the demo API never became ready');
}

describe.runIf(redisReady)('two demo API instances sharing Redis', () => {
  describe.each(ADAPTERS)('%s', (adapter) => {
    let a: RunningApi;
    let b: RunningApi;
    const limit = 4;

    beforeAll(async () => {
      const shared = { redisUrl: REDIS_URL, redisKeyPrefix: randomKeyPrefix() };
      const options = { issuer: issuer.url, adapter, rateLimitPerMinute: limit, ...shared };
      [a, b] = await Promise.all([startDemoApi(options), startDemoApi(options)]);
      // Both answer only once their Redis connection does (a busy machine may take a while).
      await Promise.all([a, b].map(ready));
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('enforces at one instance a revocation made at the other, at once', async () => {
      const bob = tokenOf('bob');
      expect((await call(b, 'GET', '/me', { token: bob })).status).toBe(200);
      const revoked = await call(a, 'POST', '/admin/revocations', {
        token: tokenOf('carol', ['admin']),
        body: { subject: 'bob' },
      });
      expect(revoked.status).toBe(201);
      // The token is in B's verified-token cache: revocation is still checked on this request.
      const refused = await call(b, 'GET', '/me', { token: bob });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('ZT_TOKEN_REVOKED');
    });

    it('enforces at one instance a session revocation made at the other, only for that session', async () => {
      const token = (sid: string) => issuer.sign({ sub: 'erin', roles: ['customer'], sid });
      const [ended, other] = [token('sid-ended'), token('sid-other')];
      expect((await call(b, 'GET', '/me', { token: ended })).status).toBe(200);
      const revoked = await call(a, 'POST', '/admin/revocations', {
        token: tokenOf('carol', ['admin']),
        body: { session: 'sid-ended' },
      });
      expect(revoked).toMatchObject({ status: 201, body: { revoked: 'session', id: 'sid-ended' } });
      expect((await call(b, 'GET', '/me', { token: ended })).body.code).toBe('ZT_TOKEN_REVOKED');
      expect((await call(b, 'GET', '/me', { token: other })).status).toBe(200);
    });

    it('counts one principal across both instances', async () => {
      const dave = tokenOf('dave');
      const statuses: number[] = [];
      for (let i = 0; i <= limit; i += 1)
        statuses.push((await call(i % 2 ? b : a, 'GET', '/me', { token: dave })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
      expect((await call(a, 'GET', '/me', { token: tokenOf('erin') })).status).toBe(200);
    });
  });
});

describe.each(ADAPTERS)('an unreachable Redis (%s)', (adapter) => {
  let api: RunningApi;

  beforeAll(async () => {
    const redisUrl = `redis://127.0.0.1:${await freePort()}`;
    api = await startDemoApi({ issuer: issuer.url, adapter, redisUrl });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('boots, then refuses with 503 ZT_STORE_UNAVAILABLE without crashing', async () => {
    for (let i = 0; i < 3; i += 1) {
      const response = await call(api, 'GET', '/me', { token: tokenOf('alice') });
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('ZT_STORE_UNAVAILABLE');
      expect(JSON.stringify(response.body)).not.toContain('127.0.0.1');
    }
    // Public routes are refused too: their rate counts live in Redis.
    expect((await call(api, 'GET', '/health')).status).toBe(503);
  });
});

describe.runIf(canSpawnRedis)('a Redis that goes down and comes back', () => {
  let redis: PrivateRedis;
  let api: RunningApi;

  beforeAll(async () => {
    redis = await privateRedis();
    await redis.start();
    api = await startDemoApi({ issuer: issuer.url, redisUrl: redis.url });
  });
  afterAll(async () => {
    await api?.close();
    await redis?.stop();
  });

  it('fails closed while it is down and recovers by itself', async () => {
    const token = tokenOf('alice');
    expect((await call(api, 'GET', '/me', { token })).status).toBe(200);
    await redis.stop();
    const down = await call(api, 'GET', '/me', { token });
    expect(down.status).toBe(503);
    expect(down.body.code).toBe('ZT_STORE_UNAVAILABLE');
    await redis.start();
    await expect
      .poll(async () => (await call(api, 'GET', '/me', { token })).status, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(200);
  });

  it('answers 503 within the command timeout when Redis hangs', async () => {
    const token = tokenOf('carol');
    expect((await call(api, 'GET', '/me', { token })).status).toBe(200);
    redis.freeze(true);
    try {
      const hung = await call(api, 'GET', '/me', { token });
      expect(hung.status).toBe(503);
      expect(hung.body.code).toBe('ZT_STORE_UNAVAILABLE');
    } finally {
      redis.freeze(false);
    }
    await expect
      .poll(async () => (await call(api, 'GET', '/me', { token })).status, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(200);
  });

  it('boots while Redis is down, and serves once it comes up', async () => {
    const late = await privateRedis();
    const app = await startDemoApi({ issuer: issuer.url, adapter: 'fastify', redisUrl: late.url });
    try {
      const token = tokenOf('bob');
      expect((await call(app, 'GET', '/me', { token })).body.code).toBe('ZT_STORE_UNAVAILABLE');
      await late.start();
      await expect
        .poll(async () => (await call(app, 'GET', '/me', { token })).status, {
          timeout: 15_000,
          interval: 100,
        })
        .toBe(200);
    } finally {
      await app.close();
      await late.stop();
    }
  });
});
