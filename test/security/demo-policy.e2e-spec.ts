import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from '../support/demo-api.js';

/**
 * The demo's own policy on requested changes (issue 17 §7): billing-worker moves an invoice only
 * `issued` -> `paid`, a payment is recorded only against an issued invoice, an accountant never
 * marks her draft paid. On `main` each of these was allowed: the rules only looked at the
 * stored invoice (or at nothing), never at the status the request asked for.
 */
describe.each(ADAPTERS)('demo policy on requested changes (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  let alice: string;
  let worker: string;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter });
    // The scopes the demo IdP grants these clients; a plain bearer token (the certificate
    // binding is the mTLS suites' subject, not this one's).
    alice = issuer.sign({
      sub: 'alice',
      roles: ['accountant'],
      scope: 'invoices:read invoices:write reports:read',
    });
    worker = issuer.sign({
      sub: 'billing-worker',
      client_id: 'billing-worker',
      scope: 'invoices:read invoices:write payments:write',
    });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  /** A new draft of alice's, moved by alice to `status` (`draft`, `issued` or `void`). */
  async function invoice(status: 'draft' | 'issued' | 'void'): Promise<string> {
    const created = await call(api, 'POST', '/invoices', {
      token: alice,
      body: { customerId: 'bob', amount: 4200 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    if (status !== 'draft') {
      const moved = await call(api, 'PATCH', `/invoices/${id}`, { token: alice, body: { status } });
      // Set-up, not the assertion under test: a refusal here is a broken fixture.
      if (moved.status !== 200) throw new Error(`alice could not move ${id} to ${status}`);
    }
    return id;
  }

  const setStatus = (token: string, id: string, status: unknown) =>
    call(api, 'PATCH', `/invoices/${id}`, { token, body: { status } });
  const pay = (invoiceId: unknown) =>
    call(api, 'POST', '/payments', { token: worker, body: { invoiceId, amount: 4200 } });

  it('lets billing-worker move an issued invoice to paid, and nowhere else', async () => {
    const id = await invoice('issued');
    for (const status of ['draft', 'void', 'issued']) {
      const refused = await setStatus(worker, id, status);
      expect(refused.status, `issued -> ${status}`).toBe(403);
      expect(refused.body.code).toBe('ZT_ACCESS_DENIED');
      expect(api.sink.last()).toMatchObject({
        action: 'authz_fail',
        authorization: { action: 'update', subject: 'InvoiceTransition', subjectId: id },
      });
    }
    const paid = await setStatus(worker, id, 'paid');
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('paid');
    // Once paid, nothing moves it back: not to issued, not to draft, not "paid again".
    for (const status of ['issued', 'draft', 'void', 'paid'])
      expect((await setStatus(worker, id, status)).status, `paid -> ${status}`).toBe(403);
  });

  it('does not let billing-worker issue a draft, pay it or touch a void invoice', async () => {
    const draft = await invoice('draft');
    for (const status of ['issued', 'paid', 'void'])
      expect((await setStatus(worker, draft, status)).status, `draft -> ${status}`).toBe(403);
    const voided = await invoice('void');
    for (const status of ['paid', 'issued', 'draft'])
      expect((await setStatus(worker, voided, status)).status, `void -> ${status}`).toBe(403);
    const get = await call(api, 'GET', `/invoices/${draft}`, { token: alice });
    expect(get.body.status).toBe('draft');
  });

  it('records a payment only against an issued invoice', async () => {
    const issued = await invoice('issued');
    const recorded = await pay(issued);
    expect(recorded.status).toBe(201);
    expect(recorded.body).toMatchObject({ invoiceId: issued, recordedBy: 'billing-worker' });

    for (const status of ['draft', 'void'] as const) {
      const refused = await pay(await invoice(status));
      expect(refused.status, `payment against a ${status} invoice`).toBe(403);
      expect(refused.body.code).toBe('ZT_ACCESS_DENIED');
      expect(api.sink.last()).toMatchObject({
        action: 'authz_fail',
        authorization: { action: 'create', subject: 'Payment' },
        rule: { kind: 'conditions' },
      });
    }
    expect((await setStatus(worker, issued, 'paid')).status).toBe(200);
    expect((await pay(issued)).status, 'payment against a paid invoice').toBe(403);
  });

  it('refuses a payment naming no invoice like one against a void invoice (no existence oracle)', async () => {
    for (const invoiceId of ['inv-404', undefined, 42, { $ne: null }]) {
      const refused = await pay(invoiceId);
      expect({ invoiceId, status: refused.status, code: refused.body.code }).toEqual({
        invoiceId,
        status: 403,
        code: 'ZT_ACCESS_DENIED',
      });
    }
  });

  it('lets an accountant issue or void her draft, never mark it paid', async () => {
    const draft = await invoice('draft');
    const paid = await setStatus(alice, draft, 'paid');
    expect(paid.status).toBe(403);
    expect(api.sink.last()).toMatchObject({
      authorization: { subject: 'InvoiceTransition', subjectId: draft },
    });
    // Editing other fields of a draft is no status change: still allowed.
    expect(
      (await call(api, 'PATCH', `/invoices/${draft}`, { token: alice, body: { amount: 1 } }))
        .status,
    ).toBe(200);
    expect((await setStatus(alice, draft, 'issued')).status).toBe(200);
    expect((await setStatus(alice, await invoice('draft'), 'void')).status).toBe(200);
  });

  it('answers 400 for a status that is no status, before any rule reads it', async () => {
    const draft = await invoice('draft');
    for (const status of ['archived', { $in: ['paid'] }, ['paid'], null]) {
      const bad = await setStatus(alice, draft, status);
      expect({ status, answer: bad.status }).toEqual({ status, answer: 400 });
    }
    const issued = await invoice('issued');
    expect((await setStatus(worker, issued, { $ne: 'draft' })).status).toBe(400);
  });
});
