import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from '../support/demo-api.js';
import {
  canSpawnRedis,
  privateRedis,
  randomKeyPrefix,
  type PrivateRedis,
} from '../support/redis.js';

/*
 * Redis stopped while requests flow (issue 6, faults): a private redis-server of this file is
 * killed under load and started again on the same port. The demo API must fail closed with
 * 503 ZT_STORE_UNAVAILABLE (never 500, never a crash or an unhandled rejection), report itself
 * not ready, and recover on reconnect without a restart.
 */
describe.runIf(canSpawnRedis).each(ADAPTERS)('Redis stopped mid-traffic (%s)', (adapter) => {
  let issuer: TestIssuer;
  let redis: PrivateRedis;
  let api: RunningApi;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    issuer = await startDemoIssuer();
    redis = await privateRedis();
    await redis.start();
    api = await startDemoApi({
      issuer: issuer.url,
      adapter,
      redisUrl: redis.url,
      redisKeyPrefix: randomKeyPrefix(),
      rateLimitPerMinute: 1_000_000,
      // The risk engine keeps its histories in the store too: it must fail closed as well.
      riskMode: 'enforce',
    });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await api?.close();
    await redis?.stop();
    await issuer?.close();
  });

  const status = async (path: string, token?: string): Promise<number> =>
    (await call(api, 'GET', path, token === undefined ? {} : { token })).status;

  it('fails closed with 503 while Redis is down, and recovers on reconnect', async () => {
    const tokens = ['alice', 'bob', 'carol', 'dave'].map((sub) =>
      issuer.sign({ sub, roles: ['customer'] }),
    );
    /** Every answer of the traffic, in order, with its error code. */
    const answers: { status: number; code: string | undefined }[] = [];
    const flow = { running: true };
    const traffic = tokens.map(async (token) => {
      while (flow.running) {
        const answer = await call(api, 'GET', '/me', { token });
        answers.push({ status: answer.status, code: answer.body.code });
      }
    });
    const until = async (predicate: () => boolean): Promise<void> => {
      await expect.poll(predicate, { timeout: 15_000, interval: 20 }).toBe(true);
    };
    try {
      await until(() => answers.filter((a) => a.status === 200).length >= 20);
      expect(await status('/health/ready')).toBe(200);

      await redis.stop();
      const killedAt = answers.length;
      await until(() => answers.slice(killedAt).some((a) => a.status === 503));
      const ready = await call(api, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      // Refused before the probe runs: its rate count lives in the store too (fail closed).
      expect(ready.body.code).toBe('ZT_STORE_UNAVAILABLE');
      // Liveness is not readiness: the process is fine, a restart would not help.
      expect(await status('/health/live')).toBe(200);

      await redis.start();
      const restartedAt = answers.length;
      await until(() => answers.slice(restartedAt).filter((a) => a.status === 200).length >= 20);
      await expect.poll(() => status('/health/ready'), { timeout: 15_000 }).toBe(200);
    } finally {
      flow.running = false;
      await Promise.all(traffic);
    }
    const seen = new Set(answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()));
    expect([...seen].sort()).toEqual(['200', '503 ZT_STORE_UNAVAILABLE']);
    expect(unhandled).toEqual([]);
  });
});
