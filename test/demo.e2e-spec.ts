import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from './support/identity.js';

type Tokens = Record<'alice' | 'bob' | 'carol' | 'billing-worker' | 'reporting-service', string>;

let idp: TestIdentityProvider;
let tokens: Tokens;

beforeAll(async () => {
  idp = await startTestIdentityProvider();
  tokens = {
    alice: await idp.userToken('alice'),
    bob: await idp.userToken('bob'),
    carol: await idp.userToken('carol'),
    'billing-worker': await idp.serviceToken('billing-worker'),
    'reporting-service': await idp.serviceToken('reporting-service'),
  };
});
afterAll(async () => {
  await idp?.stop();
});

/**
 * billing-worker's tokens are bound to its certificate: it calls the API's mutual-TLS listener
 * presenting that certificate, as the real worker does.
 */
const workerTls = () => workloadTls(idp);

describe.each(ADAPTERS)('demo API with real IdP tokens (%s)', (adapter) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi(
      { issuer: idp.issuer, adapter },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
  });
  afterAll(async () => {
    await api?.close();
  });

  it('maps users and services from real tokens', async () => {
    const alice = await call(api, 'GET', '/me', { token: tokens.alice });
    expect(alice.status).toBe(200);
    expect(alice.body).toMatchObject({
      kind: 'user',
      id: 'alice',
      roles: ['accountant'],
      clientId: 'demo-cli',
    });
    const worker = await call(api, 'GET', '/me', {
      token: tokens['billing-worker'],
      tls: workerTls(),
    });
    expect(worker.body).toMatchObject({
      kind: 'service',
      id: 'billing-worker',
      roles: ['billing'],
    });
  });

  it('scopes lists: accountants and admins read every invoice, bob only his', async () => {
    for (const who of ['alice', 'carol'] as const) {
      const list = await call(api, 'GET', '/invoices', { token: tokens[who] });
      expect(list.status).toBe(200);
      expect((list.body as unknown as { id: string }[]).map((i) => i.id).sort()).toEqual([
        'inv-1',
        'inv-2',
        'inv-3',
      ]);
    }
    const bob = await call(api, 'GET', '/invoices', { token: tokens.bob });
    expect(bob.status).toBe(200);
    const ids = (bob.body as unknown as { id: string; customerId: string }[])
      .map((i) => i.id)
      .sort();
    expect(ids).toEqual(['inv-1', 'inv-3']);
  });

  it('checks reads against the loaded record: 403 for another customer, 404 when absent', async () => {
    expect((await call(api, 'GET', '/invoices/inv-1', { token: tokens.bob })).status).toBe(200);
    const foreign = await call(api, 'GET', '/invoices/inv-2', { token: tokens.bob });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('ZT_ACCESS_DENIED');
    const missing = await call(api, 'GET', '/invoices/inv-404', { token: tokens.bob });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('ZT_RESOURCE_NOT_FOUND');
    const event = api.sink.events.at(-1);
    expect(event).toMatchObject({
      action: 'authz_not_found',
      principal: { kind: 'user', id: 'bob' },
    });
  });

  it('refuses services what they were not granted', async () => {
    // billing-worker reads issued invoices only (what is left to collect), never a draft.
    const worker = { token: tokens['billing-worker'], tls: workerTls() };
    const listed = await call(api, 'GET', '/invoices', worker);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([expect.objectContaining({ id: 'inv-2', status: 'issued' })]);
    expect((await call(api, 'GET', '/invoices/inv-1', worker)).status).toBe(403);
    expect(
      (await call(api, 'GET', '/invoices/inv-1', { token: tokens['reporting-service'] })).status,
    ).toBe(403);
    expect(
      (
        await call(api, 'POST', '/payments', {
          token: tokens['reporting-service'],
          body: { invoiceId: 'inv-2', amount: 100 },
        })
      ).status,
    ).toBe(403);
  });

  it('lets only billing-worker record payments', async () => {
    const paid = await call(api, 'POST', '/payments', {
      token: tokens['billing-worker'],
      tls: workerTls(),
      body: { invoiceId: 'inv-2', amount: 80_000 },
    });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ invoiceId: 'inv-2', recordedBy: 'billing-worker' });
    for (const who of ['alice', 'carol', 'bob'] as const) {
      expect(
        (
          await call(api, 'POST', '/payments', {
            token: tokens[who],
            body: { invoiceId: 'inv-2', amount: 1 },
          })
        ).status,
      ).toBe(403);
    }
  });

  it('lets reporting-service and admins read reports, nobody else', async () => {
    for (const who of ['reporting-service', 'carol'] as const) {
      const report = await call(api, 'GET', '/reports/revenue', { token: tokens[who] });
      expect(report.status).toBe(200);
      expect(report.body.currency).toBe('EUR');
    }
    for (const who of ['alice', 'bob'] as const) {
      expect((await call(api, 'GET', '/reports/revenue', { token: tokens[who] })).status).toBe(403);
    }
    const worker = { token: tokens['billing-worker'] };
    expect(
      (await call(api, 'GET', '/reports/revenue', { ...worker, tls: workerTls() })).status,
    ).toBe(403);
  });

  it("refuses billing-worker's certificate-bound token without its certificate", async () => {
    const request = {
      token: tokens['billing-worker'],
      body: { invoiceId: 'inv-2', amount: 1 },
    };
    const plain = await call(api, 'POST', '/payments', request);
    expect(plain.status).toBe(401);
    expect(plain.body.code).toBe('ZT_CERTIFICATE_REQUIRED');
    expect(plain.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const ok = await call(api, 'POST', '/payments', { ...request, tls: workerTls() });
    expect(ok.status).toBe(201);
  });

  it('lets accountants and admins create invoices, not customers', async () => {
    const created = await call(api, 'POST', '/invoices', {
      token: tokens.alice,
      body: { customerId: 'bob', amount: 5000 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ownerId: 'alice', customerId: 'bob', status: 'draft' });
    expect(
      (
        await call(api, 'POST', '/invoices', {
          token: tokens.carol,
          body: { customerId: 'dave', amount: 10 },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(api, 'POST', '/invoices', {
          token: tokens.bob,
          body: { customerId: 'bob', amount: 0 },
        })
      ).status,
    ).toBe(403);
  });

  it('lets alice update only her own drafts, and only permitted fields', async () => {
    const ok = await call(api, 'PATCH', '/invoices/inv-1', {
      token: tokens.alice,
      body: { description: 'Consulting, Oct. (rev. 2)' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.description).toBe('Consulting, Oct. (rev. 2)');
    // inv-2 is issued, inv-3 belongs to another accountant.
    expect(
      (
        await call(api, 'PATCH', '/invoices/inv-2', {
          token: tokens.alice,
          body: { description: 'x' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(api, 'PATCH', '/invoices/inv-3', {
          token: tokens.alice,
          body: { description: 'x' },
        })
      ).status,
    ).toBe(403);
    const owner = await call(api, 'PATCH', '/invoices/inv-1', {
      token: tokens.alice,
      body: { ownerId: 'mallory', customerId: 'eve', amount: 1 },
    });
    expect(owner.status).toBe(403);
    expect(owner.body).toMatchObject({
      code: 'ZT_FIELDS_DENIED',
      fields: ['ownerId', 'customerId'],
    });
    expect(owner.body.message).toBe('Access denied to one or more fields: ownerId, customerId');
    expect(
      (
        await call(api, 'PATCH', '/invoices/inv-1', {
          token: tokens.bob,
          body: { description: 'x' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(api, 'PATCH', '/invoices/inv-404', {
          token: tokens.alice,
          body: { description: 'x' },
        })
      ).status,
    ).toBe(404);
  });

  it('lets billing-worker change the status field only, and only from issued to paid', async () => {
    const worker = { token: tokens['billing-worker'], tls: workerTls() };
    // inv-3 is a draft: issuing it is the accountant's move, not billing's.
    const issue = await call(api, 'PATCH', '/invoices/inv-3', {
      ...worker,
      body: { status: 'issued' },
    });
    expect(issue.status).toBe(403);
    const amount = await call(api, 'PATCH', '/invoices/inv-2', {
      ...worker,
      body: { status: 'paid', amount: 0 },
    });
    expect(amount.status).toBe(403);
    expect(amount.body).toMatchObject({ code: 'ZT_FIELDS_DENIED', fields: ['amount'] });
    const ok = await call(api, 'PATCH', '/invoices/inv-2', { ...worker, body: { status: 'paid' } });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('paid');
  });

  it('lets only admins delete invoices', async () => {
    expect((await call(api, 'DELETE', '/invoices/inv-2', { token: tokens.alice })).status).toBe(
      403,
    );
    expect(
      (
        await call(api, 'DELETE', '/invoices/inv-2', {
          token: tokens['billing-worker'],
          tls: workerTls(),
        })
      ).status,
    ).toBe(403);
    expect((await call(api, 'DELETE', '/invoices/inv-2', { token: tokens.carol })).status).toBe(
      204,
    );
    expect((await call(api, 'DELETE', '/invoices/inv-2', { token: tokens.carol })).status).toBe(
      404,
    );
  });

  it('records one decision record per request, with every stage, without the token', async () => {
    const before = api.sink.events.length;
    await call(api, 'GET', '/invoices/inv-1', { token: tokens.bob });
    const events = api.sink.events.slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'authz_success',
      decision: 'allow',
      mode: 'enforce',
      principal: { kind: 'user', id: 'bob' },
      request: { method: 'GET', route: '/invoices/:id' },
      authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-1' },
      rule: { kind: 'granted' },
    });
    expect(events[0]?.stages?.map((stage) => [stage.action, stage.decision])).toEqual([
      ['authn_token_valid', 'allow'],
      ['authz_success', 'allow'],
    ]);
    const serialized = JSON.stringify(api.sink.events);
    for (const token of Object.values(tokens))
      expect(serialized).not.toContain(token.split('.')[2]);
  });
});

describe.each(ADAPTERS)('revocation with real tokens (%s)', (adapter) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi({ issuer: idp.issuer, adapter });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('revokes one token by jti until it expires, leaving the others working', async () => {
    const token = await idp.userToken('alice');
    const me = await call(api, 'GET', '/me', { token });
    const jti = (me.body.token as { jti: string }).jti;
    expect(
      (await call(api, 'POST', '/admin/revocations', { token: tokens.alice, body: { jti } }))
        .status,
    ).toBe(403);
    const revoked = await call(api, 'POST', '/admin/revocations', {
      token: tokens.carol,
      body: { jti },
    });
    expect(revoked.status).toBe(201);
    const after = await call(api, 'GET', '/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('ZT_TOKEN_REVOKED');
    expect(api.sink.events.at(-1)?.action).toBe('authn_token_revoked');
    expect((await call(api, 'GET', '/me', { token: tokens.alice })).status).toBe(200);
  });

  it('revokes every token a subject holds ("log out everywhere"); a new login works again', async () => {
    const first = await idp.userToken('bob');
    const second = await idp.userToken('bob');
    expect(
      (
        await call(api, 'POST', '/admin/revocations', {
          token: tokens.carol,
          body: { subject: 'bob' },
        })
      ).status,
    ).toBe(201);
    for (const token of [first, second])
      expect((await call(api, 'GET', '/me', { token })).body.code).toBe('ZT_TOKEN_REVOKED');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await idp.userToken('bob');
    expect((await call(api, 'GET', '/me', { token: fresh })).status).toBe(200);
  });

  it('refuses a malformed revocation request with 400', async () => {
    const bodies = [
      { jti: 'a', subject: 'b' },
      { subject: 'b', session: 'c' },
      { session: '' },
      { session: 42 },
      { subject: 'b', exp: 1767225600 },
      {},
    ];
    for (const body of bodies) {
      const bad = await call(api, 'POST', '/admin/revocations', { token: tokens.carol, body });
      expect({ body, status: bad.status }).toEqual({ body, status: 400 });
    }
  });
});

describe.each(ADAPTERS)('report-only mode (%s)', (adapter) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi({ issuer: idp.issuer, adapter, mode: 'report-only' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('records would-deny and lets the request through', async () => {
    const response = await call(api, 'GET', '/reports/revenue', { token: tokens.bob });
    expect(response.status).toBe(200);
    expect(api.sink.events.at(-1)).toMatchObject({
      action: 'authz_fail',
      decision: 'would-deny',
      mode: 'report-only',
      code: 'ZT_ACCESS_DENIED',
      principal: { id: 'bob' },
    });
  });

  it('still enforces token verification and answers 404 for absent records', async () => {
    expect((await call(api, 'GET', '/reports/revenue')).status).toBe(401);
    expect((await call(api, 'GET', '/reports/revenue', { token: `${tokens.bob}x` })).status).toBe(
      401,
    );
    expect((await call(api, 'GET', '/invoices/inv-404', { token: tokens.bob })).status).toBe(404);
  });
});
