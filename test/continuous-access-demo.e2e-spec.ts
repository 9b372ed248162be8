import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CookieJar,
  loginWithPassword,
  logout,
  refreshTokens,
  type TokenResponse,
} from '../apps/identity/src/client.js';
import {
  DEMO_IDP_ADMIN_SECRET,
  DEMO_SSF_AUDIENCE,
  DEMO_SSF_PUSH_AUTHORIZATION,
} from '../apps/demo-api/src/config.js';
import { buildDemo, startDemoProcess, type DemoProcess } from './support/demo-process.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';
import { freePort, randomKeyPrefix, redisReady, REDIS_URL } from './support/redis.js';

/*
 * Issue "Continuous access", end to end: the real demo IdP ends a session (a logout, a reused
 * refresh token, an admin disabling a user) and two demo API processes sharing Redis (A on
 * Express receives the logout tokens and security events, B on Fastify only shares the store)
 * refuse that session's tokens from their next request. The time from the IdP's event to the
 * first refusal at each instance is measured and must stay under one second.
 */
const POLL_MS = 10;

/** A cutoff refuses tokens issued in its own second: a new login waits for the next one. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));
const basic = `Basic ${Buffer.from(`admin:${DEMO_IDP_ADMIN_SECRET}`).toString('base64')}`;

describe.runIf(redisReady)('the demo IdP ends sessions at every API instance', () => {
  let idp: TestIdentityProvider;
  let portA: number;
  let a: DemoProcess;
  let b: DemoProcess;
  let env: Record<string, string>;
  const timings: string[] = [];

  beforeAll(async () => {
    await buildDemo();
    portA = await freePort();
    const api = `http://127.0.0.1:${portA}`;
    idp = await startTestIdentityProvider({
      continuousAccess: {
        backchannelLogoutUri: `${api}/oidc/backchannel-logout`,
        securityEvents: {
          endpoint: `${api}/ssf/events`,
          authorization: DEMO_SSF_PUSH_AUTHORIZATION,
          audience: DEMO_SSF_AUDIENCE,
        },
        retry: { initialDelayMs: 100, maxDelayMs: 400 },
      },
      adminSecret: DEMO_IDP_ADMIN_SECRET,
    });
    env = {
      IDP_URL: idp.issuer,
      REDIS_URL,
      REDIS_KEY_PREFIX: randomKeyPrefix(),
      RISK_MODE: 'enforce',
    };
    [a, b] = await Promise.all([
      startDemoProcess({ ...env, HTTP_ADAPTER: 'express' }, portA),
      startDemoProcess({ ...env, HTTP_ADAPTER: 'fastify' }),
    ]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await idp?.stop();
    if (timings.length > 0)
      console.info(`continuous access, event to refusal: ${timings.join('; ')}`);
  });

  const me = (api: DemoProcess, token: string) =>
    fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${token}` } }).then(
      async (response) => ({
        status: response.status,
        code: ((await response.json()) as { code?: string }).code,
      }),
    );

  /** Milliseconds from `since` until `api` refuses `token` as revoked (polled, at most 2 s). */
  async function refusedAfter(api: DemoProcess, token: string, since: number): Promise<number> {
    while (Date.now() - since < 2000) {
      const answer = await me(api, token);
      if (answer.status === 401) {
        expect(answer.code).toBe('ZT_TOKEN_REVOKED');
        return Date.now() - since;
      }
      expect(answer.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`${api.url} still accepts the token 2 s after the event`);
  }

  /** Both instances refuse `token` within a second of `since`; the times are recorded. */
  async function refusedEverywhere(what: string, token: string, since: number): Promise<void> {
    const [atA, atB] = await Promise.all([
      refusedAfter(a, token, since),
      refusedAfter(b, token, since),
    ]);
    timings.push(`${what}: A ${atA} ms, B ${atB} ms`);
    expect(atA).toBeLessThan(1000);
    expect(atB).toBeLessThan(1000);
  }

  async function login(
    username: 'bob' | 'alice',
  ): Promise<{ tokens: TokenResponse; cookies: CookieJar }> {
    const cookies = new CookieJar(idp.issuer);
    const tokens = await loginWithPassword({
      issuer: idp.issuer,
      username,
      password: username,
      cookies,
    });
    expect(await me(a, tokens.access_token)).toEqual({ status: 200, code: undefined });
    expect(await me(b, tokens.access_token)).toEqual({ status: 200, code: undefined });
    return { tokens, cookies };
  }

  const refreshRefused = async (tokens: TokenResponse) =>
    expect(
      refreshTokens({ issuer: idp.issuer, refreshToken: tokens.refresh_token ?? '' }),
    ).rejects.toThrow(/invalid_grant/);

  it('bob logs out at the IdP: his access and refresh tokens stop working everywhere, and A audits why', async () => {
    const { tokens, cookies } = await login('bob');
    const other = await login('alice');
    const since = Date.now();
    await logout({ issuer: idp.issuer, cookies, idTokenHint: tokens.id_token });
    await refusedEverywhere('logout', tokens.access_token, since);
    await refreshRefused(tokens);
    // Only bob's session ended.
    expect(await me(b, other.tokens.access_token)).toEqual({ status: 200, code: undefined });
    await expect
      .poll(() => a.output())
      .toMatch(/"action":"session_expired"[^\n]*back-channel logout/);
  });

  it('a reused refresh token ends the grant: the rotated-to tokens are refused everywhere', async () => {
    const { tokens } = await login('bob');
    const rotated = await refreshTokens({
      issuer: idp.issuer,
      refreshToken: tokens.refresh_token ?? '',
    });
    expect(await me(b, rotated.access_token)).toEqual({ status: 200, code: undefined });
    const since = Date.now();
    // A thief replays the consumed refresh token: the IdP revokes the whole grant.
    await refreshRefused(tokens);
    await refusedEverywhere('refresh-token reuse', rotated.access_token, since);
    await refreshRefused(rotated);
  });

  it('carol disables bob at the IdP: every token of bob is refused everywhere', async () => {
    const { tokens } = await login('bob');
    const since = Date.now();
    const disabled = await fetch(`${idp.issuer}/admin/accounts/bob/disable`, {
      method: 'POST',
      headers: { authorization: basic },
    });
    expect(disabled.status).toBe(204);
    try {
      await refusedEverywhere('admin disable', tokens.access_token, since);
      await refreshRefused(tokens);
    } finally {
      await fetch(`${idp.issuer}/admin/accounts/bob/enable`, {
        method: 'POST',
        headers: { authorization: basic },
      });
      await nextSecond();
    }
  });

  it('while the receiver is down the IdP keeps the event, and delivers it once A is back', async () => {
    const { tokens } = await login('bob');
    await a.stop();
    const changed = await fetch(`${idp.issuer}/admin/accounts/bob/credential-change`, {
      method: 'POST',
      headers: { authorization: basic },
    });
    expect(changed.status).toBe(204);
    expect(idp.securityEvents.pending()).toBeGreaterThan(0);
    // Nobody has heard of it yet: B still serves bob.
    expect(await me(b, tokens.access_token)).toEqual({ status: 200, code: undefined });
    a = await startDemoProcess({ ...env, HTTP_ADAPTER: 'express' }, portA);
    await idp.securityEvents.drained();
    expect(await me(b, tokens.access_token)).toEqual({ status: 401, code: 'ZT_TOKEN_REVOKED' });
    expect(await me(a, tokens.access_token)).toEqual({ status: 401, code: 'ZT_TOKEN_REVOKED' });
    await nextSecond();
  });

  it("an API revocation of a subject also ends the subject's grants at the IdP", async () => {
    const { tokens } = await login('bob');
    const admin = await idp.userToken('carol', { mfa: true });
    const revoked = await fetch(`${b.url}/admin/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'bob' }),
    });
    expect(revoked.status).toBe(201);
    expect(await me(a, tokens.access_token)).toEqual({ status: 401, code: 'ZT_TOKEN_REVOKED' });
    await refreshRefused(tokens);
  });
});
