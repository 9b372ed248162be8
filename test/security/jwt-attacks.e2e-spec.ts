import { generateKeyPairSync } from 'node:crypto';
import { RevocationService } from 'nestjs-zero-trust';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PUBLIC_URLS } from '../../apps/demo-api/src/config.js';
import { ADAPTERS, startDemoApi, startDemoIssuer, type RunningApi } from '../support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity.js';
import { rawRequest, startCountingListener, type CountingListener } from '../support/raw-http.js';
import { ATTACK_CASES, DPOP_CASES, type Forge } from './attack-cases.js';

const INVALID_TOKEN = /^Bearer error="invalid_token", error_description="[^"]+"$/;

/**
 * Presents `authorization` to GET /me and asserts the clean refusal every attack must get:
 * 401, an RFC 6750 `invalid_token` challenge, one deny event with the same code, nothing of
 * the token echoed. Returns the code.
 */
async function expectRefused(
  api: RunningApi,
  authorization: string,
  codes: readonly string[],
): Promise<string> {
  api.sink.events.length = 0;
  const response = await rawRequest(api.url, { path: '/me', headers: { authorization } });
  expect({ status: response.status, body: response.body }).toMatchObject({ status: 401 });
  expect(response.headers['www-authenticate']).toMatch(INVALID_TOKEN);
  const body = JSON.parse(response.body) as { code: string };
  expect(codes).toContain(body.code);
  const events = api.sink.events.filter((e) => e.decision === 'deny');
  expect(events).toHaveLength(1);
  expect(events[0]?.action).toMatch(/^authn_token_(invalid|revoked)$/);
  expect(events[0]?.code).toBe(body.code);
  // Nothing of the token (its last 24 characters, or a marker when it is shorter) is echoed.
  const token = authorization.replace(/^Bearer /, '');
  const tail = token.length >= 16 ? token.slice(-24) : '\u0000no-token\u0000';
  expect(response.body).not.toContain(tail);
  expect(JSON.stringify(events[0])).not.toContain(tail);
  return body.code;
}

describe.each(ADAPTERS)('JWT attack suite against the demo API (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  let listener: CountingListener;
  let forge: Forge;

  beforeAll(async () => {
    listener = await startCountingListener();
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter });
    const revocations = api.app.get(RevocationService);
    forge = {
      issuer,
      attacker: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      listener: listener.url,
      revoke: (jti) => revocations.revokeToken(jti),
    };
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
    await listener?.close();
  });

  it('has at least 40 distinct cases', () => {
    expect(ATTACK_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ATTACK_CASES.map((c) => c.id)).size).toBe(ATTACK_CASES.length);
  });

  it('accepts the untampered token the cases start from (the suite can fail)', async () => {
    const response = await rawRequest(api.url, {
      path: '/me',
      headers: { authorization: `Bearer ${issuer.sign({ sub: 'alice' })}` },
    });
    expect(response.status).toBe(200);
  });

  it.each(ATTACK_CASES)('$id: $name → 401 invalid_token', async (attack) => {
    const value = await attack.forge(forge);
    await expectRefused(api, attack.raw ? value : `Bearer ${value}`, attack.codes);
  });

  it.each(DPOP_CASES)('$id: $name → 401 $error', async (attack) => {
    // Proofs name the demo's public URL (dpop.publicUrl), wherever this instance listens.
    const requests = attack.requests({ ...forge, url: DEMO_PUBLIC_URLS[0] as string });
    const send = ({ authorization, headers }: (typeof requests)[number]) =>
      rawRequest(api.url, { path: '/me', headers: { ...headers, authorization } });
    const earlier: number[] = [];
    for (const request of requests.slice(0, -1)) earlier.push((await send(request)).status);
    // Every request but the last is a legitimate use the attacker observed.
    expect(earlier).toEqual(earlier.map(() => 200));
    const last = requests.at(-1) as (typeof requests)[number];
    api.sink.events.length = 0;
    const response = await send(last);
    expect({ status: response.status, body: response.body }).toMatchObject({ status: 401 });
    expect(response.headers['www-authenticate']).toMatch(
      new RegExp(`^DPoP error="${attack.error}", error_description="[^"]+", algs="[A-Za-z0-9 ]+"$`),
    );
    const body = JSON.parse(response.body) as { code: string };
    expect(attack.codes).toContain(body.code);
    const events = api.sink.events.filter((e) => e.decision === 'deny');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      code: body.code,
      action: attack.action ?? 'authn_token_invalid',
    });
    const tail = last.authorization.slice(-24);
    expect(response.body).not.toContain(tail);
    expect(JSON.stringify(events[0])).not.toContain(tail);
  });

  it('refuses an Authorization header of 64 KiB before any code runs (431, never 5xx)', async () => {
    api.sink.events.length = 0;
    const token = issuer.sign({}, { header: { pad: 'x'.repeat(64 * 1024) } });
    const response = await rawRequest(api.url, {
      path: '/me',
      headers: { authorization: `Bearer ${token}` },
    });
    // Node's HTTP parser (16 KiB header limit) refuses it; the app never sees the token.
    expect(response.status === 431 || response.status === 0).toBe(true);
    expect(api.sink.events.filter((e) => e.decision === 'allow')).toHaveLength(0);
  });

  it('answers a spray of random kids with 401 and at most one JWKS fetch per cooldown', async () => {
    const before = issuer.jwksRequests;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        rawRequest(api.url, {
          path: '/me',
          headers: {
            authorization: `Bearer ${issuer.sign({}, { header: { kid: `spray-${i}-${Math.random()}` } })}`,
          },
        }),
      ),
    );
    expect(results.every((r) => r.status === 401)).toBe(true);
    expect(issuer.jwksRequests - before).toBeLessThanOrEqual(1);
  });

  it('never contacted the attacker listener (jku, x5u, kid payloads)', () => {
    expect(listener.hits).toBe(0);
  });
});

describe.each(ADAPTERS)(
  'tokens of the real demo IdP used where they do not belong (%s)',
  (adapter) => {
    let idp: TestIdentityProvider;
    let api: RunningApi;
    let other: RunningApi;

    beforeAll(async () => {
      idp = await startTestIdentityProvider();
      api = await startDemoApi({ issuer: idp.issuer, adapter });
      // A second resource server of the same IdP: tokens for the demo API must not work there.
      other = await startDemoApi({
        issuer: idp.issuer,
        adapter,
        audience: 'https://other.demo.local',
      });
    }, 60_000);
    afterAll(async () => {
      await other?.close();
      await api?.close();
      await idp?.stop();
    });

    it('accepts the real access token (the cases below can fail)', async () => {
      const token = await idp.userToken('alice');
      const response = await rawRequest(api.url, {
        path: '/me',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
    });

    it('IDP-ID-TOKEN: refuses an ID token presented as an access token', async () => {
      const { loginWithPassword } = await import('../../apps/identity/src/client.js');
      const tokens = await loginWithPassword({
        issuer: idp.issuer,
        username: 'bob',
        password: 'bob',
      });
      expect(tokens.id_token).toBeTypeOf('string');
      await expectRefused(api, `Bearer ${tokens.id_token as string}`, [
        'ZT_TOKEN_TYPE_INVALID',
        'ZT_TOKEN_AUDIENCE_INVALID',
      ]);
    });

    it('IDP-OTHER-AUDIENCE: refuses a service token at a resource server it was not issued for', async () => {
      const token = await idp.serviceToken('reporting-service');
      await expectRefused(other, `Bearer ${token}`, ['ZT_TOKEN_AUDIENCE_INVALID']);
      const here = await rawRequest(api.url, {
        path: '/me',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(here.status).toBe(200);
    });
  },
);
