import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  clientCredentials,
  clientCredentialsWithCertificate,
  loginWithPassword,
  refreshTokens,
} from './client.js';
import {
  DEMO_CLIENT_SCOPES,
  DEMO_LEDGER_AUDIENCE,
  DEMO_SERVICE_CLIENTS,
  DEMO_AUDIENCE,
} from './constants.js';
import { startIdentityProvider, type RunningIdentityProvider } from './identity-provider.js';

/** The `scope` claim of an access token. */
const scopeOf = (token: string): unknown => decodeJwt(token).scope;

/**
 * Each demo client gets only the scopes registered for it (issue 17 §6). On `main` the IdP
 * granted any scope of the resource to any client that asked, and a service that asked for
 * none got a token saying nothing of what it may do.
 */
describe('demo identity provider: scopes registered per client', () => {
  let dataDir: string;
  let idp: RunningIdentityProvider;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'demo-idp-scopes-'));
    idp = await startIdentityProvider({ port: 0, mtlsPort: 0, dataDir, quiet: true });
  });
  afterAll(async () => {
    await idp?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const secretClient = (clientId: string, scope?: string, resource?: string) =>
    clientCredentials({
      issuer: idp.issuer,
      clientId,
      clientSecret: DEMO_SERVICE_CLIENTS[clientId] ?? '',
      ...(scope === undefined ? {} : { scope }),
      ...(resource === undefined ? {} : { resource }),
    });
  const billingWorker = (scope?: string) => {
    const own = idp.pki.workloads['billing-worker'];
    return clientCredentialsWithCertificate({
      issuer: idp.issuer,
      clientId: 'billing-worker',
      tls: { key: own.key, cert: own.cert, ca: idp.pki.caCert },
      ...(scope === undefined ? {} : { scope }),
    });
  };

  it('registers these scopes for the demo clients', () => {
    expect(DEMO_CLIENT_SCOPES).toEqual({
      'demo-cli':
        'openid offline_access invoices:read invoices:write reports:read revocations:write',
      'billing-worker': 'invoices:read invoices:write payments:write',
      'reporting-service': 'reports:read ledger:read',
      'metrics-scraper': 'metrics:read',
      'billing-worker-events': 'payments:events',
    });
  });

  it.each([
    ['reporting-service', 'payments:write'],
    ['reporting-service', 'reports:read invoices:write'],
    ['reporting-service', 'openid'],
    ['reporting-service', 'admin:everything'],
    ['metrics-scraper', 'reports:read'],
    ['metrics-scraper', 'metrics:read ledger:write'],
    ['billing-worker-events', 'payments:write'],
    ['billing-worker-events', 'invoices:read'],
  ])('refuses %s a scope not registered for it (%s): invalid_scope', async (clientId, scope) => {
    await expect(secretClient(clientId, scope)).rejects.toThrow(/invalid_scope \(HTTP 400 from /);
  });

  it('refuses billing-worker (mTLS client) a scope not registered for it', async () => {
    await expect(billingWorker('payments:write reports:read')).rejects.toThrow(
      /invalid_scope \(HTTP 400 from /,
    );
    const granted = await billingWorker('payments:write');
    expect(granted.scope).toBe('payments:write');
    expect(scopeOf(granted.access_token)).toBe('payments:write');
  });

  it('gives a service that asks for no scope its registered scopes of that resource', async () => {
    expect(scopeOf((await secretClient('reporting-service')).access_token)).toBe('reports:read');
    expect(
      scopeOf(
        (await secretClient('reporting-service', undefined, DEMO_LEDGER_AUDIENCE)).access_token,
      ),
    ).toBe('ledger:read');
    expect(scopeOf((await secretClient('metrics-scraper')).access_token)).toBe('metrics:read');
    expect(scopeOf((await billingWorker()).access_token)).toBe(
      'invoices:read invoices:write payments:write',
    );
  });

  it('puts in a token only the registered scopes its resource defines', async () => {
    // Both registered; the API's token gets the API's, the ledger's the ledger's.
    const api = await secretClient('reporting-service', 'reports:read ledger:read', DEMO_AUDIENCE);
    expect(scopeOf(api.access_token)).toBe('reports:read');
    const ledger = await secretClient(
      'reporting-service',
      'reports:read ledger:read',
      DEMO_LEDGER_AUDIENCE,
    );
    expect(scopeOf(ledger.access_token)).toBe('ledger:read');
  });

  it('refuses a user login asking for a scope demo-cli is not registered for', async () => {
    for (const scope of ['openid payments:write', 'openid metrics:read', 'openid ledger:read']) {
      await expect(
        loginWithPassword({ issuer: idp.issuer, username: 'carol', password: 'carol', scope }),
      ).rejects.toThrow(/Authorization failed: invalid_scope/);
    }
  });

  it("gives a user login demo-cli's API scopes by default, and keeps them on refresh", async () => {
    const login = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
    });
    expect(scopeOf(login.access_token)).toBe(
      'invoices:read invoices:write reports:read revocations:write',
    );
    const refreshed = await refreshTokens({
      issuer: idp.issuer,
      refreshToken: login.refresh_token ?? '',
    });
    expect(scopeOf(refreshed.access_token)).toBe(
      'invoices:read invoices:write reports:read revocations:write',
    );
    // Asking for fewer is fine: the token carries what was asked.
    const narrow = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid invoices:read',
    });
    expect(scopeOf(narrow.access_token)).toBe('invoices:read');
  });
});
