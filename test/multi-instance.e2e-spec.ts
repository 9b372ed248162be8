import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { buildDemo, startDemoProcess, type DemoProcess } from './support/demo-process.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';
import { randomKeyPrefix, redisReady, REDIS_URL, testRedisClient } from './support/redis.js';

/*
 * Two demo API PROCESSES (the built `apps/demo-api/dist/main.js`) sharing one Redis (a key
 * prefix of their own) and one demo IdP: what one instance learns, the other enforces.
 * Redis is mandatory under CI=true (support/redis.ts throws), skipped with a notice otherwise.
 */
const LIMIT = 10;
const LONDON = '81.2.69.142';
const CHANGCHUN = '175.16.199.7';

interface Answer {
  status: number;
  body: { code?: string };
}

async function get(
  api: DemoProcess,
  path: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${api.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

const claimsOf = (token: string): { jti: string; exp: number } =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    jti: string;
    exp: number;
  };

describe.runIf(redisReady)('two demo API processes sharing Redis', () => {
  let idp: TestIdentityProvider;
  /** carol's MFA token, once: a one-time code is accepted only once. */
  let admin: string;

  beforeAll(async () => {
    await buildDemo();
    idp = await startTestIdentityProvider();
    admin = await idp.userToken('carol', { mfa: true });
  }, 180_000);
  afterAll(async () => {
    await idp?.stop();
  });

  describe.each(ADAPTERS)('%s', (adapter) => {
    let a: DemoProcess;
    let b: DemoProcess;
    const prefix = randomKeyPrefix();

    beforeAll(async () => {
      const env = {
        HTTP_ADAPTER: adapter,
        IDP_URL: idp.issuer,
        REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT_PER_MINUTE: String(LIMIT),
        RISK_MODE: 'enforce',
      };
      [a, b] = await Promise.all([startDemoProcess(env), startDemoProcess(env)]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('enforces at B, within one second, a revocation made at A', async () => {
      const victim = await idp.serviceToken('metrics-scraper');
      expect((await get(b, '/me', victim)).status).toBe(200);
      const revoked = await fetch(`${a.url}/admin/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(claimsOf(victim)),
      });
      expect(revoked.status).toBe(201);
      const revokedAt = Date.now();
      // B has the token in its verified-token cache: poll it for at most one second.
      const seen: Answer[] = [];
      while (Date.now() - revokedAt < 1000) {
        seen.push(await get(b, '/me', victim));
        if (seen.at(-1)?.status !== 200) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen.at(-1)).toEqual({
        status: 401,
        body: expect.objectContaining({ code: 'ZT_TOKEN_REVOKED' }),
      });
      expect(Date.now() - revokedAt).toBeLessThanOrEqual(1000);
    });

    it('shares rate limits: requests split across A and B hit one limit', async () => {
      const token = await idp.userToken('bob');
      const statuses: number[] = [];
      for (let i = 0; i <= LIMIT; i += 1)
        statuses.push((await get(i % 2 === 0 ? a : b, '/me', token)).status);
      expect(statuses).toEqual([...Array.from({ length: LIMIT }, () => 200), 429]);
      // Both instances refuse now: the count is one.
      expect((await get(a, '/me', token)).body.code).toBe('ZT_RATE_LIMITED');
      expect((await get(b, '/me', token)).body.code).toBe('ZT_RATE_LIMITED');
    });

    it('shares risk histories: London at A, then Changchun at B → step-up at B', async () => {
      const token = await idp.userToken('alice');
      const london = await get(a, '/invoices', token, { 'x-forwarded-for': LONDON });
      expect(london.status).toBe(200);
      // A learns the location once its answer has been sent: wait until it is in Redis, as
      // a second request of a real traveller would come later than this test's next line.
      const redis = testRedisClient();
      await redis.connect();
      try {
        await expect
          .poll(async () => (await redis.keys(`${prefix}*geo*`)).length, { timeout: 2000 })
          .toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
      const changchun = await get(b, '/invoices', token, { 'x-forwarded-for': CHANGCHUN });
      expect(changchun).toEqual({
        status: 401,
        body: expect.objectContaining({ code: 'ZT_STEP_UP_REQUIRED' }),
      });
    });
  });
});
