import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ZeroTrustModule, type ZeroTrustModuleOptions } from 'nestjs-zero-trust';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { deviceFingerprint } from 'nestjs-zero-trust/risk';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenApp, ProbeController, type ListeningApp } from './support/nest-app.js';

/*
 * The continuous-access receivers as the issuer's servers use them: a back-channel logout token
 * POSTed as a form, a Security Event Token pushed as application/secevent+jwt. What they apply is
 * enforced on the next request; forged, replayed and malformed signals change nothing.
 */
const CLIENT_ID = 'demo-cli';
const RECEIVER = 'https://api.test.local/ssf';
const PUSH_SECRET = 'Bearer push-secret-0123456789';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const USER_AGENT = 'continuous-access-test/1.0';
const DEVICE_HEADERS = { 'user-agent': USER_AGENT, 'accept-language': 'en' };
const DEVICE = deviceFingerprint(DEVICE_HEADERS);
const now = (): number => Math.floor(Date.now() / 1000);

let issuer: TestIssuer;
let transmitter: TestIssuer;
beforeAll(async () => {
  [issuer, transmitter] = await Promise.all([TestIssuer.start(), TestIssuer.start()]);
});
afterAll(async () => {
  await Promise.all([issuer?.close(), transmitter?.close()]);
});

function options(events: DecisionEvent[]): ZeroTrustModuleOptions {
  return {
    issuer: issuer.url,
    audience: issuer.audience,
    // A rotated key is looked up at once (the 503 case below).
    jwks: { cooldown: 0 },
    audit: { sink: { write: (event) => void events.push(event) } },
    risk: { usage: false, network: false, failures: false, injection: false },
    continuousAccess: {
      backchannelLogout: { audience: CLIENT_ID },
      sharedSignals: {
        issuer: transmitter.url,
        jwksUri: `${transmitter.url}/jwks`,
        audience: RECEIVER,
        authorization: PUSH_SECRET,
      },
    },
  };
}

const receivers = { backchannelLogout: '/oidc/backchannel-logout', sharedSignals: '/ssf/events' };

function boot(
  adapter: 'express' | 'fastify',
  events: DecisionEvent[],
  overrides: Partial<ZeroTrustModuleOptions> = {},
): Promise<ListeningApp> {
  @Module({
    imports: [ZeroTrustModule.forRoot({ ...options(events), receivers, ...overrides })],
    controllers: [ProbeController],
  })
  class ReceiverModule {}
  return listenApp(ReceiverModule, adapter);
}

/** A logout token as oidc-provider signs it, with `claims` over the defaults. */
function logoutToken(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return issuer.sign(
    { aud: CLIENT_ID, events: { [LOGOUT_EVENT]: {} }, sid: 'sid-1', sub: 'bob', ...claims },
    { header: { typ: 'logout+jwt', ...header } },
  );
}

/** A CAEP SET from the transmitter: one event, `sub_id`, no `sub` and no `exp`. */
function securityEvent(
  event: string,
  body: Record<string, unknown>,
  subject: Record<string, unknown>,
  claims: Record<string, unknown> = {},
): string {
  const omit = ['sub', 'exp'].filter((name) => !(name in claims));
  return transmitter.sign(
    { aud: RECEIVER, sub_id: subject, events: { [`${CAEP}${event}`]: body }, ...claims },
    { omit, header: { typ: 'secevent+jwt' } },
  );
}

const user = (sub: string) => ({ format: 'iss_sub', iss: issuer.url, sub });
const session = (sub: string, sid: string) => ({
  format: 'complex',
  user: user(sub),
  session: { format: 'opaque', id: sid },
});

describe.each(['express', 'fastify'] as const)('continuous access on %s', (adapter) => {
  const events: DecisionEvent[] = [];
  let api: ListeningApp;

  beforeAll(async () => {
    api = await boot(adapter, events);
  });
  afterAll(async () => {
    await api?.app.close();
  });

  async function probe(token: string): Promise<{ status: number; code?: string }> {
    const response = await fetch(`${api.url}/probe`, {
      headers: { authorization: `Bearer ${token}`, ...DEVICE_HEADERS },
    });
    if (response.status === 200) return { status: 200 };
    const { code } = (await response.json()) as { code?: string };
    return { status: response.status, code };
  }

  async function logout(body: string) {
    const response = await fetch(`${api.url}/oidc/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      cache: response.headers.get('cache-control'),
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, string>),
    };
  }

  async function push(set: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${api.url}/ssf/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/secevent+jwt',
        authorization: PUSH_SECRET,
        ...headers,
      },
      body: set,
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, string>),
    };
  }

  async function audited(): Promise<DecisionEvent[]> {
    await api.app.get(AuditService).flush();
    return events.splice(0);
  }

  const accessToken = (claims: Record<string, unknown>) =>
    issuer.sign({ auth_time: now() - 30, ...claims });
  const REVOKED = { status: 401, code: 'ZT_TOKEN_REVOKED' };

  describe('back-channel logout', () => {
    it('ends the session the logout token names, not the others, and audits it', async () => {
      const sid = randomUUID();
      const ended = accessToken({ sub: 'bob', sid });
      const other = accessToken({ sub: 'bob', sid: randomUUID() });
      expect(await probe(ended)).toEqual({ status: 200 });
      await audited();
      const answer = await logout(`logout_token=${logoutToken({ sid })}`);
      expect(answer).toEqual({ status: 200, cache: 'no-store', body: undefined });
      expect(await probe(ended)).toEqual(REVOKED);
      expect(await probe(other)).toEqual({ status: 200 });
      expect(await audited()).toContainEqual(
        expect.objectContaining({
          action: 'session_expired',
          decision: 'allow',
          code: 'ZT_SIGNAL_APPLIED',
          reason: expect.stringContaining(`session ${sid}`),
        }),
      );
    });

    it('ends every session of the subject when the token names no sid', async () => {
      const sub = `user-${randomUUID()}`;
      const token = accessToken({ sub, sid: 'any' });
      expect(await logout(`logout_token=${logoutToken({ sub, sid: undefined })}`)).toMatchObject({
        status: 200,
      });
      expect(await probe(token)).toEqual(REVOKED);
    });

    it('refuses a replayed logout token with 400 and an alert', async () => {
      const token = logoutToken({ sid: randomUUID() });
      expect((await logout(`logout_token=${token}`)).status).toBe(200);
      await audited();
      expect(await logout(`logout_token=${token}`)).toEqual({
        status: 400,
        cache: 'no-store',
        body: { error: 'invalid_request', error_description: 'the token was already received' },
      });
      expect(await audited()).toContainEqual(
        expect.objectContaining({ action: 'authn_token_reuse', code: 'ZT_SIGNAL_REPLAY' }),
      );
    });

    it.each([
      [
        'another issuer',
        () =>
          transmitter.sign(
            { aud: CLIENT_ID, iss: issuer.url, events: { [LOGOUT_EVENT]: {} }, sid: 's' },
            { header: { typ: 'logout+jwt' } },
          ),
      ],
      ['another audience', () => logoutToken({ aud: 'other-client' })],
      [
        'an access token',
        () => accessToken({ sub: 'bob', sid: 's', events: { [LOGOUT_EVENT]: {} } }),
      ],
      ['an id token (nonce)', () => logoutToken({ nonce: 'n' })],
      ['no logout event', () => logoutToken({ events: { other: {} } })],
      [
        'a logout event that is not an object',
        () => logoutToken({ events: { [LOGOUT_EVENT]: 'x' } }),
      ],
      ['neither sid nor sub', () => logoutToken({ sid: undefined, sub: undefined })],
      [
        'no jti',
        () =>
          issuer.sign(
            { aud: CLIENT_ID, events: { [LOGOUT_EVENT]: {} }, sid: 's' },
            { omit: ['jti'], header: { typ: 'logout+jwt' } },
          ),
      ],
      ['an old iat', () => logoutToken({ iat: now() - 3600, exp: now() + 60 })],
      ['an expired token', () => logoutToken({ iat: now() - 200, exp: now() - 100 })],
      ['a jku header', () => logoutToken({}, { jku: 'https://attacker.example/jwks' })],
      ['no signature', () => logoutToken().replace(/\.[^.]+$/, '.')],
      ['garbage', () => 'not-a-jwt'],
    ])('refuses a logout token with %s, revoking nothing', async (_case, make) => {
      const sid = 's';
      const token = accessToken({ sub: 'bob', sid });
      const answer = await logout(`logout_token=${make()}`);
      expect(answer.status).toBe(400);
      expect(answer.body?.error).toBe('invalid_request');
      expect(await probe(token)).toEqual({ status: 200 });
      expect(await audited()).toContainEqual(
        expect.objectContaining({ action: 'session_event_refused', code: 'ZT_SIGNAL_INVALID' }),
      );
    });

    it('refuses a body without exactly one logout_token', async () => {
      const token = logoutToken({ sid: randomUUID() });
      for (const body of ['', 'other=1', `logout_token=${token}&logout_token=${token}`])
        expect((await logout(body)).status).toBe(400);
    });
  });

  describe('shared signals (CAEP)', () => {
    it('applies session-revoked to the session named, with 202 and no body', async () => {
      const sid = randomUUID();
      const token = accessToken({ sub: 'carol', sid });
      expect(await push(securityEvent('session-revoked', {}, session('carol', sid)))).toEqual({
        status: 202,
        body: undefined,
      });
      expect(await probe(token)).toEqual(REVOKED);
      expect(await audited()).toContainEqual(
        expect.objectContaining({ action: 'session_expired', code: 'ZT_SIGNAL_APPLIED' }),
      );
    });

    it.each(['credential-change', 'token-claims-change'])(
      'applies %s to every token of the user issued before it',
      async (event) => {
        const sub = `user-${randomUUID()}`;
        const token = accessToken({ sub });
        const body =
          event === 'credential-change'
            ? { credential_type: 'password', change_type: 'update' }
            : { claims: { role: 'none' } };
        expect((await push(securityEvent(event, body, user(sub)))).status).toBe(202);
        expect(await probe(token)).toEqual(REVOKED);
      },
    );

    it('makes a lowered assurance level step up, until the user authenticates again', async () => {
      const sub = `user-${randomUUID()}`;
      const before = accessToken({ sub, auth_time: now() - 3600 });
      expect(await probe(before)).toEqual({ status: 200 });
      const lowered = {
        namespace: 'NIST-AAL',
        current_level: 'nist-aal1',
        change_direction: 'decrease',
      };
      expect((await push(securityEvent('assurance-level-change', lowered, user(sub)))).status).toBe(
        202,
      );
      expect(await probe(before)).toEqual({ status: 401, code: 'ZT_STEP_UP_REQUIRED' });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await probe(accessToken({ sub, auth_time: now() }))).toEqual({ status: 200 });
    });

    it('denies a device reported non-compliant, and keeps the latest report', async () => {
      const device = { format: 'complex', device: { format: 'opaque', id: DEVICE } };
      const token = accessToken({ sub: 'dave' });
      const report = (status: string, iat: number) =>
        push(
          securityEvent(
            'device-compliance-change',
            { previous_status: 'compliant', current_status: status },
            device,
            { iat },
          ),
        );
      expect((await report('not-compliant', now())).status).toBe(202);
      expect(await probe(token)).toEqual({ status: 403, code: 'ZT_RISK_DENIED' });
      expect((await report('compliant', now() + 1)).status).toBe(202);
      expect(await probe(token)).toEqual({ status: 200 });
      // An older report arriving late does not undo the newer one.
      expect((await report('not-compliant', now() - 5)).status).toBe(202);
      expect(await probe(token)).toEqual({ status: 200 });
    });

    it('acknowledges an event type it does not act on, and audits it', async () => {
      await audited();
      const set = securityEvent('session-established', {}, user('bob'));
      expect((await push(set)).status).toBe(202);
      expect(await audited()).toContainEqual(
        expect.objectContaining({ action: 'session_event_ignored', code: 'ZT_SIGNAL_IGNORED' }),
      );
    });

    it('acknowledges a retransmitted SET again (202), applied once, audited as a replay', async () => {
      const sid = randomUUID();
      const set = securityEvent('session-revoked', {}, session('bob', sid));
      expect((await push(set)).status).toBe(202);
      await audited();
      expect(await push(set)).toEqual({ status: 202, body: undefined });
      expect(await audited()).toEqual([
        expect.objectContaining({ action: 'session_event_ignored', code: 'ZT_SIGNAL_REPLAY' }),
      ]);
      expect(await probe(accessToken({ sub: 'bob', sid }))).toEqual(REVOKED);
    });

    it.each([
      ['no Authorization', { authorization: '' }, 401, 'authentication_failed'],
      [
        'a wrong Authorization',
        { authorization: 'Bearer push-secret-0123456780' },
        401,
        'authentication_failed',
      ],
    ])('refuses a push with %s', async (_case, headers, status, err) => {
      const sid = randomUUID();
      const token = accessToken({ sub: 'bob', sid });
      const set = securityEvent('session-revoked', {}, session('bob', sid));
      expect(await push(set, headers)).toMatchObject({ status, body: { err } });
      expect(await probe(token)).toEqual({ status: 200 });
    });

    it('refuses a push of another media type (Fastify: 415 before the route)', async () => {
      const sid = randomUUID();
      const token = accessToken({ sub: 'bob', sid });
      const set = securityEvent('session-revoked', {}, session('bob', sid));
      const answer = await push(set, { 'content-type': 'application/jwt' });
      expect(answer.status).toBe(adapter === 'fastify' ? 415 : 400);
      expect(await probe(token)).toEqual({ status: 200 });
    });

    it.each([
      [
        'another issuer',
        () =>
          issuer.sign(
            { aud: RECEIVER, sub_id: user('bob'), events: { [`${CAEP}session-revoked`]: {} } },
            { omit: ['sub', 'exp'], header: { typ: 'secevent+jwt' } },
          ),
        'invalid_key',
      ],
      [
        'a forged iss',
        () =>
          issuer.sign(
            {
              iss: transmitter.url,
              aud: RECEIVER,
              sub_id: user('bob'),
              events: { [`${CAEP}session-revoked`]: {} },
            },
            { omit: ['sub', 'exp'], header: { typ: 'secevent+jwt' } },
          ),
        'invalid_key',
      ],
      [
        'another audience',
        () => securityEvent('session-revoked', {}, user('bob'), { aud: 'other' }),
        'invalid_audience',
      ],
      [
        'a sub claim',
        () => securityEvent('session-revoked', {}, user('bob'), { sub: 'bob' }),
        'invalid_request',
      ],
      [
        'an exp claim',
        () => securityEvent('session-revoked', {}, user('bob'), { exp: now() + 60 }),
        'invalid_request',
      ],
      [
        'two events',
        () =>
          securityEvent('session-revoked', {}, user('bob'), {
            events: { [`${CAEP}session-revoked`]: {}, [`${CAEP}credential-change`]: {} },
          }),
        'invalid_request',
      ],
      [
        'a user of another issuer',
        () =>
          securityEvent(
            'session-revoked',
            {},
            { format: 'iss_sub', iss: 'https://other', sub: 'bob' },
          ),
        'invalid_request',
      ],
      [
        'an email subject',
        () => securityEvent('session-revoked', {}, { format: 'email', email: 'bob@example.com' }),
        'invalid_request',
      ],
      [
        'an access token type',
        () =>
          transmitter.sign(
            { aud: RECEIVER, sub_id: user('bob'), events: { [`${CAEP}session-revoked`]: {} } },
            { omit: ['sub', 'exp'] },
          ),
        'invalid_request',
      ],
    ])('refuses a SET with %s, revoking nothing', async (_case, make, err) => {
      const token = accessToken({ sub: 'bob', sid: 'kept' });
      const answer = await push(make());
      expect(answer).toMatchObject({ status: 400, body: { err } });
      expect(await probe(token)).toEqual({ status: 200 });
    });

    it("answers 503 with Retry-After while the transmitter's keys cannot be fetched", async () => {
      transmitter.rotate();
      transmitter.available = false;
      try {
        const set = securityEvent('session-revoked', {}, user('bob'));
        const response = await fetch(`${api.url}/ssf/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/secevent+jwt', authorization: PUSH_SECRET },
          body: set,
        });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
      } finally {
        transmitter.available = true;
      }
    });
  });
});

describe('continuous-access configuration', () => {
  async function bootError(input: ZeroTrustModuleOptions, routes: typeof receivers | object) {
    @Module({ imports: [ZeroTrustModule.forRoot({ ...input, receivers: routes })] })
    class BadModule {}
    return listenApp(BadModule).then(
      () => undefined,
      (error: { message?: string }) => error.message,
    );
  }

  it('refuses a receiver route without its options, options without a route, and CAEP without risk', async () => {
    const { continuousAccess, risk: _risk, ...rest } = options([]);
    expect(await bootError(rest, receivers)).toMatch(
      /receivers.backchannelLogout mounts a route, but continuousAccess.backchannelLogout is not set[\s\S]*receivers.sharedSignals mounts a route/,
    );
    expect(await bootError({ ...rest, continuousAccess }, {})).toMatch(
      /continuousAccess.backchannelLogout is set, but receivers.backchannelLogout mounts no route[\s\S]*continuousAccess.sharedSignals needs the risk option/,
    );
    expect(
      await bootError(
        { ...rest, continuousAccess: { backchannelLogout: { audience: '' } } },
        { backchannelLogout: '/x/:id' },
      ),
    ).toMatch(
      /continuousAccess.backchannelLogout.audience must be a client id[\s\S]*receivers.backchannelLogout must be a path/,
    );
  });
});

describe('continuous access with forRootAsync, and a store that is down', () => {
  it('mounts the receivers from forRootAsync and answers 503 (retry later) while the store is down', async () => {
    const events: DecisionEvent[] = [];
    const down = {
      ...options(events),
      store: { type: 'redis' as const, url: 'redis://127.0.0.1:1', connectTimeout: 200 },
    };
    @Module({
      imports: [ZeroTrustModule.forRootAsync({ useFactory: () => down, receivers })],
      controllers: [ProbeController],
    })
    class AsyncModule {}
    const api = await listenApp(AsyncModule);
    try {
      const response = await fetch(`${api.url}/oidc/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `logout_token=${logoutToken({ sid: randomUUID() })}`,
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await api.app.close();
    }
  });
});

describe('the replay window of a logout token from an issuer whose clock runs ahead', () => {
  it('refuses the replay for as long as the token could still be accepted', async () => {
    const api = await boot('express', [], { clockTolerance: 2 });
    try {
      // Signed at the start of a second, so the replay below comes well before the token expires.
      while (Date.now() % 1000 > 100) await new Promise((resolve) => setTimeout(resolve, 20));
      // `iat` 1 s ahead (inside the 2 s tolerance) and a 1 s lifetime: accepted until now + 4 s.
      const token = logoutToken({ sid: randomUUID(), iat: now() + 1, exp: now() + 2 });
      const post = () =>
        fetch(`${api.url}/oidc/backchannel-logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `logout_token=${token}`,
        });
      expect((await post()).status).toBe(200);
      // Past lifetime plus tolerance from arrival (3 s), yet the token would still be accepted.
      await new Promise((resolve) => setTimeout(resolve, 3_300));
      const replayed = await post();
      expect(replayed.status).toBe(400);
      expect(await replayed.json()).toMatchObject({
        error_description: 'the token was already received',
      });
    } finally {
      await api.app.close();
    }
  }, 20_000);
});
