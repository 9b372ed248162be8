import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMutualTlsSettings } from '../../apps/demo-api/src/mtls.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from '../support/demo-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from '../support/identity.js';

/**
 * No existence oracle: a caller that holds no rule for (action, subject), or that risk or
 * step-up refuses, gets the same answer for a record that exists and one that does not. A 404
 * is only for callers who could act on some record of the type.
 */
let idp: TestIdentityProvider;
let tokens: Record<'alice' | 'bob' | 'carol' | 'billing-worker' | 'reporting-service', string>;

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

describe.each(ADAPTERS)('no existence oracle in the demo (%s)', (adapter) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi(
      { issuer: idp.issuer, adapter, riskMode: 'enforce' },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
  });
  afterAll(async () => {
    await api?.close();
  });

  /** The audit actions of the requests made by `run`. */
  async function actionsOf(run: () => Promise<unknown>): Promise<string[]> {
    const before = api.sink.events.length;
    await run();
    return api.sink.events.slice(before).map((event) => event.action);
  }

  it('answers a caller without the scope for the subject 403 whether the record exists or not', async () => {
    // reporting-service is granted no invoices scope (nor any Invoice rule): refused on its
    // token before the record is looked up.
    const token = tokens['reporting-service'];
    const existing = await call(api, 'GET', '/invoices/inv-1', { token });
    const missing = await call(api, 'GET', '/invoices/inv-9', { token });
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual(existing.body);
    expect(existing.body.code).toBe('ZT_INSUFFICIENT_SCOPE');
    const actions = await actionsOf(() => call(api, 'GET', '/invoices/inv-9', { token }));
    expect(actions).not.toContain('authz_not_found');
    expect(api.sink.last()).toMatchObject({ action: 'authz_fail', code: 'ZT_INSUFFICIENT_SCOPE' });
  });

  it('does the same for an action the caller holds no rule for (alice may not delete)', async () => {
    for (const id of ['inv-1', 'inv-9']) {
      const answer = await call(api, 'DELETE', `/invoices/${id}`, { token: tokens.alice });
      expect(answer).toMatchObject({ status: 403, body: { code: 'ZT_ACCESS_DENIED' } });
    }
    // Refused on the type: the resolver never ran, so no record id and no "not found".
    const actions = await actionsOf(() =>
      call(api, 'DELETE', '/invoices/inv-9', { token: tokens.alice }),
    );
    expect(actions).not.toContain('authz_not_found');
    expect(api.sink.last()).toMatchObject({
      action: 'authz_fail',
      authorization: { action: 'delete', subject: 'Invoice' },
    });
    expect(api.sink.last()?.authorization).not.toHaveProperty('subjectId');
  });

  it('answers 404 only to callers who could act on some record of the type', async () => {
    // bob may read the invoices he is the customer of: some Invoice, so a missing one is a 404.
    const bob = await call(api, 'GET', '/invoices/inv-9', { token: tokens.bob });
    expect(bob).toMatchObject({ status: 404, body: { code: 'ZT_RESOURCE_NOT_FOUND' } });
    // billing-worker may change the status of any invoice.
    const worker = await call(api, 'PATCH', '/invoices/inv-9', {
      token: tokens['billing-worker'],
      tls: workloadTls(idp),
      body: { status: 'paid' },
    });
    expect(worker).toMatchObject({ status: 404, body: { code: 'ZT_RESOURCE_NOT_FOUND' } });
  });

  it('refuses fields no rule allows before loading the record', async () => {
    // billing-worker may change only `status`: changing `amount` is refused on any invoice.
    for (const id of ['inv-1', 'inv-9']) {
      const answer = await call(api, 'PATCH', `/invoices/${id}`, {
        token: tokens['billing-worker'],
        tls: workloadTls(idp),
        body: { amount: 0 },
      });
      expect(answer).toMatchObject({
        status: 403,
        body: { code: 'ZT_FIELDS_DENIED', fields: ['amount'] },
      });
    }
  });

  it('asks for step-up before any resolver answers 404', async () => {
    // carol is an admin without a recent MFA login; DELETE needs one (@RiskPolicy acr).
    for (const id of ['inv-1', 'inv-9']) {
      const answer = await call(api, 'DELETE', `/invoices/${id}`, { token: tokens.carol });
      expect(answer).toMatchObject({ status: 401, body: { code: 'ZT_STEP_UP_REQUIRED' } });
      expect(answer.headers.get('www-authenticate')).toContain('insufficient_user_authentication');
    }
    const actions = await actionsOf(() =>
      call(api, 'DELETE', '/invoices/inv-9', { token: tokens.carol }),
    );
    expect(actions).not.toContain('authz_not_found');
  });
});
