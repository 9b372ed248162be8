import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  RevocationService,
  RevocationStore,
  SharedStateStore,
  ZeroTrustModule,
  type ZeroTrustStoreOptions,
} from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  redisReady,
  freePort,
  randomKeyPrefix,
  REDIS_URL,
  testRedisClient,
} from './support/redis.js';
import { ProbeController } from './support/nest-app.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

async function boot(store: ZeroTrustStoreOptions): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience, store })],
    controllers: [ProbeController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

const probe = (url: string): Promise<Response> =>
  fetch(`${url}/probe`, {
    headers: { authorization: `Bearer ${issuer.sign({ sub: 'alice' })}` },
  });

describe.runIf(redisReady)('the Redis store option (shared Redis)', () => {
  it('builds both stores on one client it creates, and closes that client on shutdown', async () => {
    const keyPrefix = randomKeyPrefix();
    const { app, url } = await boot({ type: 'redis', url: REDIS_URL, keyPrefix });
    await app.get(RevocationService).revokeSubject('bob');
    await app.get<SharedStateStore>(SharedStateStore).set('probe', 'v', 60);
    await app.get<SharedStateStore>(SharedStateStore).ping();
    const check = testRedisClient();
    await check.connect();
    try {
      expect((await check.keys(`${keyPrefix}*`)).sort()).toEqual([
        `${keyPrefix}probe`,
        `${keyPrefix}revocation:sub:bob`,
      ]);
      expect((await probe(url)).status).toBe(200);
      await app.close();
      // The closed client: the store now rejects.
      await expect(app.get<SharedStateStore>(SharedStateStore).ping()).rejects.toThrow(
        'Connection is closed',
      );
    } finally {
      check.disconnect();
    }
  });

  it('leaves a client you give open', async () => {
    const client: Redis = testRedisClient();
    await client.connect();
    try {
      const { app } = await boot({ type: 'redis', client, keyPrefix: randomKeyPrefix() });
      const store = app.get<RevocationStore>(RevocationStore);
      expect(await store.isRevoked({ jti: 'j', sub: 's', iat: 0 })).toBe(false);
      await app.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});

describe('the Redis store option with Redis unreachable', () => {
  it('fails closed by default', async () => {
    const { app, url } = await boot({
      type: 'redis',
      url: `redis://127.0.0.1:${await freePort()}`,
    });
    try {
      const response = await probe(url);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { code: string }).code).toBe('ZT_STORE_UNAVAILABLE');
      await expect(app.get(RevocationService).revokeSubject('bob')).rejects.toMatchObject({
        code: 'ZT_STORE_UNAVAILABLE',
      });
    } finally {
      await app.close();
    }
  });

  it('fails open per concern when configured', async () => {
    const { app, url } = await boot({
      type: 'redis',
      url: `redis://127.0.0.1:${await freePort()}`,
      failOpen: { revocation: true, state: true },
    });
    try {
      expect((await probe(url)).status).toBe(200);
      const state = app.get<SharedStateStore>(SharedStateStore);
      expect(await state.claimOnce('k', 10)).toBe(true);
      expect(await state.increment('k', 10)).toBe(0);
      expect(await state.list('k')).toEqual([]);
      await expect(state.ping()).rejects.toThrow(/writeable|closed/);
      // Revoking still reports the failure: nobody believes a revocation that was not stored.
      await expect(app.get(RevocationService).revokeSubject('bob')).rejects.toMatchObject({
        code: 'ZT_STORE_UNAVAILABLE',
      });
    } finally {
      await app.close();
    }
  });
});
