import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MFA_ACR } from '../../apps/demo-api/src/policies.js';
import { DEMO_API_SCOPES } from '../../apps/identity/src/constants.js';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from '../support/demo-api.js';

/**
 * The demo API requires the scopes its clients are granted (issue 17 §6): each route that reads
 * or changes something asks for its scope, and a token without it gets 403 `insufficient_scope`
 * (RFC 6750 §3.1) whatever the caller's roles; with it, the route answers as before. On `main`
 * no demo route required a scope, so every "without" request below was served.
 *
 * The IdP side (a client asking for a scope not registered for it gets `invalid_scope`) is
 * proven in apps/identity/src/client-scopes.spec.ts.
 */

const now = (): number => Math.floor(Date.now() / 1000);

/** Claims of each caller: who may do the route's action by the demo's policy. */
const CALLERS = {
  alice: { sub: 'alice', roles: ['accountant'] },
  /** An admin who has just signed in with a one-time code (what DELETE and revocation ask). */
  carol: () => ({
    sub: 'carol',
    roles: ['admin'],
    acr: DEMO_MFA_ACR,
    amr: ['pwd', 'otp'],
    auth_time: now(),
  }),
  worker: { sub: 'billing-worker', client_id: 'billing-worker' },
  reporting: { sub: 'reporting-service', client_id: 'reporting-service' },
  scraper: { sub: 'metrics-scraper', client_id: 'metrics-scraper' },
};

interface ScopedRoute {
  method: string;
  /** The path, given a fresh invoice id where the route names one. */
  path: (id: string) => string;
  scope: string;
  caller: () => Record<string, unknown>;
  body?: unknown;
  /** The answer with the scope. */
  ok: number;
  /** The fresh invoice's status the route needs. */
  invoice?: 'draft' | 'issued';
}

const ROUTES: ScopedRoute[] = [
  {
    method: 'GET',
    path: () => '/invoices',
    scope: 'invoices:read',
    caller: () => CALLERS.alice,
    ok: 200,
  },
  {
    method: 'GET',
    path: (id) => `/invoices/${id}`,
    scope: 'invoices:read',
    caller: () => CALLERS.alice,
    ok: 200,
    invoice: 'draft',
  },
  {
    method: 'POST',
    path: () => '/invoices',
    scope: 'invoices:write',
    caller: () => CALLERS.alice,
    body: { customerId: 'bob', amount: 100 },
    ok: 201,
  },
  {
    method: 'PATCH',
    path: (id) => `/invoices/${id}`,
    scope: 'invoices:write',
    caller: () => CALLERS.alice,
    body: { description: 'Changed' },
    ok: 200,
    invoice: 'draft',
  },
  {
    method: 'DELETE',
    path: (id) => `/invoices/${id}`,
    scope: 'invoices:write',
    caller: CALLERS.carol,
    ok: 204,
    invoice: 'draft',
  },
  {
    method: 'POST',
    path: () => '/payments',
    scope: 'payments:write',
    caller: () => CALLERS.worker,
    body: { amount: 100 },
    ok: 201,
    invoice: 'issued',
  },
  {
    method: 'GET',
    path: () => '/reports/revenue',
    scope: 'reports:read',
    caller: () => CALLERS.reporting,
    ok: 200,
  },
  {
    method: 'GET',
    path: () => '/metrics',
    scope: 'metrics:read',
    caller: () => CALLERS.scraper,
    ok: 200,
  },
  {
    method: 'POST',
    path: () => '/admin/revocations',
    scope: 'revocations:write',
    caller: CALLERS.carol,
    body: { subject: 'nobody-in-particular' },
    ok: 201,
  },
];

/** Every scope the demo API understands but `scope`. */
const allBut = (scope: string): string =>
  DEMO_API_SCOPES.split(' ')
    .filter((granted) => granted !== scope)
    .join(' ');

describe.each(ADAPTERS)('demo API route scopes (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  /** A new invoice of alice's in `status`, made with a token holding every scope. */
  async function freshInvoice(status: 'draft' | 'issued'): Promise<string> {
    const alice = issuer.sign(CALLERS.alice);
    const created = await call(api, 'POST', '/invoices', {
      token: alice,
      body: { customerId: 'bob', amount: 100 },
    });
    const id = created.body.id as string;
    if (status === 'issued') {
      await call(api, 'PATCH', `/invoices/${id}`, { token: alice, body: { status } });
    }
    // Set-up, not the assertion under test: a refusal here is a broken fixture.
    if (created.status !== 201) throw new Error(`alice could not create an invoice (${status})`);
    return id;
  }

  /** Calls `route` with a token granting `scope`, on a fresh invoice where it needs one. */
  async function callWith(route: ScopedRoute, scope: string) {
    const id = route.invoice === undefined ? '' : await freshInvoice(route.invoice);
    const body =
      route.method === 'POST' && route.path('') === '/payments'
        ? { ...(route.body as object), invoiceId: id }
        : route.body;
    return call(api, route.method, route.path(id), {
      token: issuer.sign({ ...route.caller(), scope }),
      ...(body === undefined ? {} : { body }),
    });
  }

  it.each(ROUTES.map((route) => [`${route.method} ${route.path(':id')}`, route.scope, route]))(
    '%s without %s: 403 insufficient_scope, whatever the roles',
    async (_name, scope, route) => {
      const refused = await callWith(route, allBut(scope));
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('ZT_INSUFFICIENT_SCOPE');
      expect(refused.headers.get('www-authenticate')).toBe(
        `Bearer error="insufficient_scope", error_description="The access token lacks a scope this route requires", scope="${scope}"`,
      );
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.path(':id')}`, route.scope, route]))(
    '%s with only %s: served',
    async (_name, scope, route) => {
      const served = await callWith(route, scope);
      expect(served.status).toBe(route.ok);
    },
  );

  it('asks no scope of GET /me: any verified principal may read its own claims', async () => {
    const me = await call(api, 'GET', '/me', {
      token: issuer.sign({ sub: 'bob', roles: ['customer'] }, { omit: ['scope'] }),
    });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe('bob');
  });
});
