import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEcsEvent } from 'nestjs-zero-trust/audit';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { DEMO_SERVICE_CLIENTS } from '../apps/identity/src/constants.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import { onCerbos } from './support/cerbos.js';
import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from './support/identity.js';

type Who = 'alice' | 'bob' | 'carol' | 'billing-worker' | 'metrics-scraper';

/** A denial's explanation: CASL's rule text, or on Cerbos the policy, rule and call id. */
const explained = (casl: string, cerbos: RegExp): unknown =>
  onCerbos ? expect.stringMatching(cerbos) : casl;

let idp: TestIdentityProvider;
let tokens: Record<Who, string>;

beforeAll(async () => {
  idp = await startTestIdentityProvider();
  tokens = {
    alice: await idp.userToken('alice'),
    bob: await idp.userToken('bob'),
    carol: await idp.userToken('carol'),
    'billing-worker': await idp.serviceToken('billing-worker'),
    'metrics-scraper': await idp.serviceToken('metrics-scraper'),
  };
});
afterAll(async () => {
  await idp?.stop();
});

/** Reads one sample of the exposition text: `name{labels} value`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(ADAPTERS)('audit events, metrics and explanations (%s)', (adapter) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi(
      { issuer: idp.issuer, adapter, explainDenials: true },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
  });
  afterAll(async () => {
    await api?.close();
  });

  it('never puts a token, a signature or a client secret in any event', async () => {
    const [header, payload, signature] = tokens.bob.split('.') as [string, string, string];
    const tampered = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
    const other = await TestIssuer.start({ audience: 'https://invoices.demo.local' });
    const foreign = other.sign({ sub: 'mallory' });
    await other.close();
    // A revoked token, revoked by an admin.
    const revoked = await idp.userToken('bob');
    const me = await call(api, 'GET', '/me', { token: revoked });
    const jti = (me.body.token as { jti: string }).jti;
    await call(api, 'POST', '/admin/revocations', { token: tokens.carol, body: { jti } });
    const traffic: [string, string, string | undefined, unknown?][] = [
      ['GET', '/invoices', tokens.bob],
      ['GET', '/invoices/inv-2', tokens.bob],
      ['PATCH', '/invoices/inv-1', tokens.alice, { amount: 10, customerId: 'bob' }],
      ['POST', '/payments', tokens['billing-worker'], { invoiceId: 'inv-1', amount: 1 }],
      ['GET', '/metrics', tokens['metrics-scraper']],
      ['GET', '/me', revoked],
      ['GET', '/me', tampered],
      ['GET', '/me', foreign],
      ['GET', '/me', undefined],
      ['GET', '/me?access_token=' + tokens.alice, undefined],
    ];
    for (const [method, path, token, body] of traffic) {
      await call(api, method, path, { token, body });
    }
    const events = api.sink.events;
    const actions = new Set(events.map((e) => e.action));
    for (const action of [
      'authn_token_valid',
      'authn_token_invalid',
      'authn_token_missing',
      'authn_token_revoked',
      'authz_success',
      'authz_fail',
    ])
      expect(actions).toContain(action);
    const serialized =
      JSON.stringify(events) + JSON.stringify(events.map((e) => toEcsEvent(e, 'demo-api')));
    const secrets = [
      ...Object.values(tokens).flatMap((t) => [t, ...t.split('.').slice(1)]),
      revoked.split('.')[2] as string,
      tampered.split('.')[2] as string,
      foreign.split('.')[2] as string,
      ...Object.values(DEMO_SERVICE_CLIENTS),
    ];
    for (const secret of secrets) expect(serialized).not.toContain(secret);
  });

  // CASL's rule texts; on Cerbos (POLICY_ENGINE=cerbos) the policy, rule and call id instead.
  it('explains a denial in the event and, in development, in the 403 body', async () => {
    const foreign = await call(api, 'GET', '/invoices/inv-2', { token: tokens.bob });
    expect(foreign.status).toBe(403);
    const conditions = explained(
      'can read Invoice if { customerId }: the conditions do not match this record',
      /^cerbos resource\.Invoice\.vdefault \(call \w+\): the conditions do not match this record$/,
    );
    expect(foreign.body.explanation).toEqual(conditions);
    const event = api.sink.last();
    expect(event?.rule).toEqual({ kind: 'conditions', description: conditions });
    // alice's client is granted reports:read; her role holds no rule for reports.
    const accountant = await call(api, 'GET', '/reports/revenue', { token: tokens.alice });
    expect(accountant.body.explanation).toEqual(
      explained('no rule grants read on Report', /^cerbos .*Report.*\(call \w+\)/),
    );
    const fields = await call(api, 'PATCH', '/invoices/inv-2', {
      token: tokens['billing-worker'],
      tls: workloadTls(idp),
      body: { amount: 1 },
    });
    expect(fields.status).toBe(403);
    expect(fields.body.code).toBe('ZT_FIELDS_DENIED');
    expect(fields.body.explanation).toEqual(
      explained(
        'can update Invoice (fields: status) if { status }: the field "amount" is not granted',
        /^cerbos plan for update on Invoice: .*\(call \w+\): the field "amount" is not granted$/,
      ),
    );
  });

  it("gives each response a request id: a trusted proxy's if well formed, else a new one", async () => {
    // The demo trusts loopback as its proxy: its X-Request-Id carries through to the events.
    const relayed = await call(api, 'GET', '/invoices/inv-1', {
      token: tokens.bob,
      headers: { 'x-request-id': 'edge-4bf92f3577b34da6' },
    });
    expect(relayed.headers.get('x-request-id')).toBe('edge-4bf92f3577b34da6');
    expect(api.sink.last()?.request.id).toBe('edge-4bf92f3577b34da6');
    const response = await call(api, 'GET', '/invoices/inv-1', {
      token: tokens.bob,
      headers: { 'x-request-id': 'no spaces"or quotes' },
    });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(api.sink.last()?.request.id).toBe(id);
    expect((await call(api, 'GET', '/health/live')).headers.get('x-request-id')).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });

  it('counts scripted traffic in the metrics, only for the scraper, with no ids or paths', async () => {
    expect((await call(api, 'GET', '/metrics')).status).toBe(401);
    expect((await call(api, 'GET', '/metrics', { token: tokens.bob })).status).toBe(403);
    const before = await call(api, 'GET', '/metrics', { token: tokens['metrics-scraper'] });
    const text0 = String(before.body.raw);
    const denyRead =
      'zero_trust_authorization_decisions_total{decision="deny",subject="Invoice",action="read"}';
    const missing = 'zero_trust_authentication_total{result="failure",reason="ZT_TOKEN_MISSING"}';
    const d0 = sample(text0, denyRead) ?? 0;
    const m0 = sample(text0, missing) ?? 0;
    for (let i = 0; i < 3; i++) await call(api, 'GET', '/invoices/inv-2', { token: tokens.bob });
    for (let i = 0; i < 2; i++) await call(api, 'GET', '/invoices');
    const after = await call(api, 'GET', '/metrics', { token: tokens['metrics-scraper'] });
    const text = String(after.body.raw);
    expect(after.headers.get('content-type')).toContain('text/plain');
    expect(sample(text, denyRead)).toBe(d0 + 3);
    expect(sample(text, missing)).toBe(m0 + 2);
    expect(sample(text, 'zero_trust_jwks_refresh_total{result="success"}')).toBeGreaterThan(0);
    expect(sample(text, 'zero_trust_jwks_keys')).toBeGreaterThan(0);
    expect(sample(text, 'zero_trust_audit_events_dropped_total')).toBe(0);
    expect(text).toMatch(/zero_trust_token_verification_seconds_count\{result="success"\} \d+/);
    for (const forbidden of ['bob', 'alice', 'inv-2', '/invoices', api.sink.last()?.request.id])
      expect(text).not.toContain(forbidden);
  });
});

describe('denial explanations in production', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi({ issuer: idp.issuer, explainDenials: false });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('keeps the 403 body short; the event still names the rule', async () => {
    const foreign = await call(api, 'GET', '/invoices/inv-2', { token: tokens.bob });
    expect(foreign.status).toBe(403);
    expect(foreign.body.explanation).toBeUndefined();
    expect(api.sink.last()?.rule?.kind).toBe('conditions');
  });
});
