import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceFingerprint } from 'nestjs-zero-trust/risk';
import { ZeroTrustMetrics } from 'nestjs-zero-trust';
import { type DecisionEvent } from 'nestjs-zero-trust/audit';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { DEMO_MFA_ACR } from '../../apps/demo-api/src/policies.js';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from '../support/demo-api.js';

const LONDON = '81.2.69.142';
const CHANGCHUN = '175.16.199.7';
const LINKOPING = '89.160.20.115';
const MILTON = '216.160.83.57';
const CHALLENGE =
  /^Bearer error="insufficient_user_authentication", error_description="[^"]+", acr_values="urn:demo:acr:mfa", max_age=300$/;

const now = (): number => Math.floor(Date.now() / 1000);

/** Events of the last request only (they share its request id). */
function lastRequestEvents(api: RunningApi): DecisionEvent[] {
  const id = api.sink.events.at(-1)?.request.id;
  return api.sink.events.filter((event) => event.request.id === id);
}

describe.each(ADAPTERS)('context risk (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  const user = (sub: string, roles: string[], extra: Record<string, unknown> = {}): string =>
    issuer.sign({
      sub,
      roles,
      acr: 'urn:demo:acr:password',
      amr: ['pwd'],
      auth_time: now(),
      ...extra,
    });
  const mfa = (sub: string, roles: string[], authAge = 30): string =>
    user(sub, roles, { acr: DEMO_MFA_ACR, amr: ['pwd', 'otp'], auth_time: now() - authAge });
  const from = (ip: string, headers: Record<string, string> = {}) => ({
    'x-forwarded-for': ip,
    ...headers,
  });

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter, riskMode: 'enforce' });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('sends impossible travel (London, then Changchun minutes later) to step-up, which MFA passes', async () => {
    const token = user('alice-travel', ['accountant']);
    const london = await call(api, 'GET', '/invoices', { token, headers: from(LONDON) });
    expect(london.status).toBe(200);
    const assessed = lastRequestEvents(api).find((e) => e.action === 'risk_assessed');
    expect(assessed).toMatchObject({ decision: 'allow', risk: { score: 0 } });

    const changchun = await call(api, 'GET', '/invoices', { token, headers: from(CHANGCHUN) });
    expect(changchun.status).toBe(401);
    expect(changchun.headers.get('www-authenticate')).toMatch(CHALLENGE);
    expect(changchun.body).toMatchObject({
      code: 'ZT_STEP_UP_REQUIRED',
      acr_values: DEMO_MFA_ACR,
      max_age: 300,
    });
    const events = lastRequestEvents(api);
    expect(events.find((e) => e.action === 'authn_impossible_travel')).toMatchObject({
      decision: 'step-up',
      outcome: 'failure',
      reason: expect.stringMatching(
        /^impossible travel from London \(GB\) to Changchun \(CN\)/,
      ) as string,
      request: { ip: CHANGCHUN },
      risk: { score: 60 },
    });
    expect(events.find((e) => e.action === 'authn_step_up_required')).toMatchObject({
      decision: 'step-up',
      code: 'ZT_STEP_UP_REQUIRED',
      risk: { score: 60, reasons: [expect.objectContaining({ signal: 'geolocation' })] },
      geo: { country_iso_code: 'CN', city_name: 'Changchun' },
    });
    // The finding feeds the impossible-travel alert; the decision the score histogram, once.
    const metrics = await api.app.get(ZeroTrustMetrics).registry.metrics();
    expect(metrics).toContain('zero_trust_risk_signals_total{signal="impossible_travel"} 1');
    expect(metrics).toMatch(/zero_trust_risk_score_count \d+/);

    // After a fresh MFA login the same trip is accepted, and Changchun becomes the last place.
    const stepped = mfa('alice-travel', ['accountant']);
    expect(
      (await call(api, 'GET', '/invoices', { token: stepped, headers: from(CHANGCHUN) })).status,
    ).toBe(200);
    expect((await call(api, 'GET', '/invoices', { token, headers: from(CHANGCHUN) })).status).toBe(
      200,
    );
  });

  it('requires a recent MFA from carol to delete an invoice or revoke a token', async () => {
    const password = user('carol', ['admin']);
    const denied = await call(api, 'DELETE', '/invoices/inv-3', { token: password });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(CHALLENGE);
    const stale = await call(api, 'DELETE', '/invoices/inv-3', {
      token: mfa('carol', ['admin'], 600),
    });
    expect(stale.status).toBe(401);
    const revoke = await call(api, 'POST', '/admin/revocations', {
      token: password,
      body: { subject: 'nobody' },
    });
    expect(revoke.status).toBe(401);
    const fresh = mfa('carol', ['admin']);
    expect((await call(api, 'DELETE', '/invoices/inv-3', { token: fresh })).status).toBe(204);
    expect(
      (await call(api, 'POST', '/admin/revocations', { token: fresh, body: { subject: 'nobody' } }))
        .status,
    ).toBe(201);
  });

  it('steps up a request from another device than the token was bound to', async () => {
    const laptop = { 'user-agent': 'DemoLaptop/1.0', 'accept-language': 'en-GB' };
    const phone = { 'user-agent': 'DemoPhone/2.0', 'accept-language': 'en-GB' };
    const token = user('bob-device', ['customer'], { device_id: deviceFingerprint(laptop) });
    expect((await call(api, 'GET', '/invoices', { token, headers: laptop })).status).toBe(200);
    const other = await call(api, 'GET', '/invoices', { token, headers: phone });
    expect(other.status).toBe(401);
    expect(other.body.code).toBe('ZT_STEP_UP_REQUIRED');
    expect(
      lastRequestEvents(api).find((e) => e.action === 'session_device_mismatch'),
    ).toMatchObject({
      risk: { score: 70 },
    });
  });

  it('denies a service calling a route it never called, after its learning period', async () => {
    const token = issuer.sign({ sub: 'reporting-service', client_id: 'reporting-service' });
    for (let i = 0; i < 20; i++) {
      expect((await call(api, 'GET', '/reports/revenue', { token })).status).toBe(200);
    }
    expect((await call(api, 'GET', '/reports/revenue', { token })).status).toBe(200);
    const me = await call(api, 'GET', '/me', { token });
    expect(me.status).toBe(403);
    expect(me.body.code).toBe('ZT_RISK_DENIED');
    expect(lastRequestEvents(api).find((e) => e.code === 'ZT_RISK_DENIED')).toMatchObject({
      action: 'authz_fail',
      decision: 'deny',
      principal: { kind: 'service', id: 'reporting-service' },
      risk: { score: 50, reasons: [expect.objectContaining({ signal: 'usage' })] },
    });
  });

  it('denies injection payloads and records malicious_* events, but not an ordinary body', async () => {
    const token = user('alice-injection', ['accountant']);
    const sqli = await call(api, 'GET', `/invoices?q=${encodeURIComponent("' OR '1'='1")}`, {
      token,
    });
    expect(sqli.status).toBe(403);
    expect(sqli.body.code).toBe('ZT_RISK_DENIED');
    expect(lastRequestEvents(api).map((e) => e.action)).toContain('malicious_sqli');

    const xss = await call(api, 'POST', '/invoices', {
      token,
      body: { customerId: 'bob', amount: 100, description: '<img src=x onerror=alert(1)>' },
    });
    expect(xss.status).toBe(403);
    expect(lastRequestEvents(api).find((e) => e.action === 'malicious_xss')).toMatchObject({
      decision: 'deny',
      reason: 'cross-site scripting payload in the body',
    });
    expect(JSON.stringify(api.sink.events)).not.toContain('onerror');

    const ordinary = await call(api, 'POST', '/invoices', {
      token,
      body: { customerId: 'bob', amount: 100, description: "O'Neil & Sons: design (March)" },
    });
    expect(ordinary.status).toBe(201);
  });

  it('lets CASL read env.risk: carol, an admin, is refused reports at high risk', async () => {
    const token = mfa('carol-risk', ['admin']);
    expect(
      (await call(api, 'GET', '/reports/revenue', { token, headers: from(LONDON) })).status,
    ).toBe(200);
    const far = await call(api, 'GET', '/reports/revenue', { token, headers: from(MILTON) });
    // Impossible travel scores 60 > 40: the admin rules do not apply, so authorization denies.
    expect(far.status).toBe(403);
    expect(far.body.code).toBe('ZT_ACCESS_DENIED');
    // The interceptor never ran, yet the finding behind the refusal is in the audit trail.
    // One decision record, then the finding as an event of its own.
    const [record, finding, ...rest] = lastRequestEvents(api);
    expect([record, finding].map((e) => [e?.action, e?.decision])).toEqual([
      ['authz_fail', 'deny'],
      ['authn_impossible_travel', 'deny'],
    ]);
    expect(rest).toHaveLength(0);
    expect(record?.stages?.map((stage) => [stage.action, stage.decision])).toEqual([
      ['authn_token_valid', 'allow'],
      ['authz_fail', 'deny'],
    ]);
  });

  it('steps up after a burst of the principal’s own failures, never after junk from its address', async () => {
    for (let i = 0; i < 20; i++) {
      const bad = await call(api, 'GET', '/invoices', {
        token: 'not-a-jwt',
        headers: from(LINKOPING),
      });
      expect(bad.status).toBe(401);
    }
    const token = user('alice-burst', ['accountant']);
    // Nobody's failures: alice at that address is served.
    expect((await call(api, 'GET', '/invoices', { token, headers: from(LINKOPING) })).status).toBe(
      200,
    );
    // Her own: an accountant may not read reports.
    for (let i = 0; i < 20; i++) {
      const refused = await call(api, 'GET', '/reports/revenue', {
        token,
        headers: from(LINKOPING),
      });
      expect(refused.status).toBe(403);
    }
    const response = await call(api, 'GET', '/invoices', { token, headers: from(LINKOPING) });
    expect(response.status).toBe(401);
    expect(lastRequestEvents(api).find((e) => e.action === 'authn_fail_burst')).toMatchObject({
      risk: { score: 50 },
    });
  });
});

describe.each(ADAPTERS)('context risk, report-only and time windows (%s)', (adapter) => {
  let issuer: TestIssuer;
  let reportOnly: RunningApi;
  let closed: RunningApi;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    reportOnly = await startDemoApi({ issuer: issuer.url, adapter, riskMode: 'report-only' });
    // A reports window that excludes the current time: two to three hours from now.
    const hour = (offset: number): string =>
      `${String((new Date().getUTCHours() + offset) % 24).padStart(2, '0')}:00`;
    closed = await startDemoApi({
      issuer: issuer.url,
      adapter,
      riskMode: 'enforce',
      reportsWindow: `${hour(2)}-${hour(3)}`,
    });
  });
  afterAll(async () => {
    await reportOnly?.close();
    await closed?.close();
    await issuer?.close();
  });

  it('records would-deny and would-step-up and lets the requests through', async () => {
    const token = issuer.sign({ sub: 'alice', roles: ['accountant'] });
    const sqli = await call(reportOnly, 'GET', '/invoices?id=1%20UNION%20SELECT%20secret', {
      token,
    });
    expect(sqli.status).toBe(200);
    expect(lastRequestEvents(reportOnly).find((e) => e.code === 'ZT_RISK_DENIED')).toMatchObject({
      decision: 'would-deny',
      mode: 'report-only',
      outcome: 'failure',
    });
    const carol = issuer.sign({ sub: 'carol', roles: ['admin'] });
    const deleted = await call(reportOnly, 'DELETE', '/invoices/inv-3', { token: carol });
    expect(deleted.status).toBe(204);
    expect(
      lastRequestEvents(reportOnly).find((e) => e.action === 'authn_step_up_required'),
    ).toMatchObject({
      decision: 'would-step-up',
      mode: 'report-only',
    });
  });

  it('lets reporting-service read reports only inside its window (a CASL rule on env.time)', async () => {
    const token = issuer.sign({ sub: 'reporting-service', client_id: 'reporting-service' });
    const response = await call(closed, 'GET', '/reports/revenue', { token });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('ZT_ACCESS_DENIED');
    expect((await call(reportOnly, 'GET', '/reports/revenue', { token })).status).toBe(200);
  });
});
