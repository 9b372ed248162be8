import { createHash, X509Certificate } from 'node:crypto';
import { runWithRequestId } from '../libs/zero-trust/src/context/request-id.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { decodeJwt } from 'jose';
import { ServiceTokenClient, type ServiceTokenClientOptions } from 'nestjs-zero-trust/client';
import { TokenRequestError, ZeroTrustConfigurationError } from 'nestjs-zero-trust';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_AUDIENCE, DEMO_LEDGER_AUDIENCE } from '../apps/identity/src/constants.js';
import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';
import { startResource, stop } from './support/resource-server.js';

const SECRET = 'reporting-service-secret';

describe('ServiceTokenClient against the demo IdP', () => {
  let idp: TestIdentityProvider;
  const clients: ServiceTokenClient[] = [];
  const make = (options: Partial<ServiceTokenClientOptions> = {}): ServiceTokenClient => {
    const client = new ServiceTokenClient({
      issuer: idp.issuer,
      clientId: 'reporting-service',
      clientSecret: SECRET,
      ...options,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    idp = await startTestIdentityProvider({ accessTokenTtlSeconds: 60 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await idp.stop();
  });

  it('reuses a fresh token and renews it ahead of expiry (pinned clock)', async () => {
    let now = Date.now();
    const client = make({ refreshSkew: 20, clock: () => now });
    const first = await client.getToken(DEMO_AUDIENCE);
    expect(decodeJwt(first.accessToken)).toMatchObject({ aud: DEMO_AUDIENCE });
    expect(first.expiresAt - now).toBe(60_000);
    expect(first.refreshAt - now).toBe(40_000);

    now += 39_000; // still fresh: no request
    expect(await client.getToken(DEMO_AUDIENCE)).toBe(first);
    expect(client.tokenRequestCount).toBe(1);

    now += 2000; // 41 s: inside the skew, 19 s before exp
    const second = await client.getToken(DEMO_AUDIENCE);
    expect(client.tokenRequestCount).toBe(2);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(decodeJwt(second.accessToken).jti).not.toBe(decodeJwt(first.accessToken).jti);
  });

  it('shares one token request between concurrent callers', async () => {
    const client = make();
    const tokens = await Promise.all(
      Array.from({ length: 10 }, () => client.getToken(DEMO_AUDIENCE)),
    );
    expect(client.tokenRequestCount).toBe(1);
    expect(new Set(tokens.map((token) => token.accessToken)).size).toBe(1);
  });

  it('keeps one token per audience (RFC 8707 resource)', async () => {
    const client = make({ scopes: { [DEMO_LEDGER_AUDIENCE]: 'ledger:read' } });
    const api = await client.getToken(DEMO_AUDIENCE);
    const ledger = await client.getToken(DEMO_LEDGER_AUDIENCE);
    expect(decodeJwt(api.accessToken).aud).toBe(DEMO_AUDIENCE);
    expect(decodeJwt(ledger.accessToken)).toMatchObject({
      aud: DEMO_LEDGER_AUDIENCE,
      scope: 'ledger:read',
    });
    expect(client.tokenRequestCount).toBe(2);
  });

  it('retries exactly once with a fresh token after a 401, forwarding X-Request-Id', async () => {
    const resource = await startResource((_request, index) => (index === 0 ? 401 : 200));
    try {
      const client = make();
      const response = await client.fetch(DEMO_AUDIENCE, `${resource.url}/thing`, {
        method: 'POST',
        body: '{"a":1}',
        requestId: 'req-42',
      });
      expect(response.status).toBe(200);
      expect(resource.seen).toHaveLength(2);
      const [first, second] = resource.seen.map((request) => request.headers);
      expect(first?.authorization).toMatch(/^Bearer /);
      expect(second?.authorization).toMatch(/^Bearer /);
      expect(second?.authorization).not.toBe(first?.authorization);
      expect(second?.['x-request-id']).toBe('req-42');
      expect(client.tokenRequestCount).toBe(2);
    } finally {
      await stop(resource.server);
    }
  });

  it('gives up after the one retry when the resource keeps answering 401', async () => {
    const resource = await startResource(() => 401);
    try {
      const client = make();
      const response = await client.fetch(DEMO_AUDIENCE, `${resource.url}/thing`);
      expect(response.status).toBe(401);
      expect(resource.seen).toHaveLength(2);
      expect(client.tokenRequestCount).toBe(2);
    } finally {
      await stop(resource.server);
    }
  });

  it('refuses bad configuration at construction, listing every problem, echoing nothing', () => {
    let error: unknown;
    try {
      clients.push(
        new ServiceTokenClient({
          clientId: '',
          issuer: 'ftp://idp.example',
          clientSecret: 'super-secret-value',
          authMethod: 'tls_client_auth',
          refreshSkew: -1,
          timeout: 0,
          tls: { key: 'not a key', cert: 'not a cert' },
          extra: true,
        } as unknown as ServiceTokenClientOptions),
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    const problems = (error as ZeroTrustConfigurationError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'unknown option "extra"',
        'clientId must be a non-empty string',
        expect.stringMatching(/^issuer must use https/),
        'tls.key is not a readable private key',
        'tls.cert is not a readable certificate',
        'clientSecret must not be set with tls_client_auth',
        expect.stringMatching(/^refreshSkew must be/),
        expect.stringMatching(/^timeout must be/),
      ]),
    );
    expect((error as Error).message).not.toContain('super-secret-value');
    expect((error as Error).message).not.toContain('ftp://idp.example');
  });

  it('reports an unreachable IdP as ZT_TOKEN_ENDPOINT_UNAVAILABLE, without the secret', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await stop(closed);
    const client = make({ issuer: `http://127.0.0.1:${port}` });
    const error = await client.getToken(DEMO_AUDIENCE).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/could not connect/);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('times out on an IdP that never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const client = make({ tokenEndpoint: `http://127.0.0.1:${port}/token`, timeout: 0.2 });
      await expect(client.getToken(DEMO_AUDIENCE)).rejects.toMatchObject({
        code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
        message: expect.stringMatching(/timed out/),
      });
    } finally {
      await stop(silent);
    }
  });

  it('reports a refused client (wrong secret) as ZT_TOKEN_REQUEST_REFUSED, without the secret', async () => {
    const client = make({ clientSecret: 'wrong-secret-value' });
    const error = await client.getToken(DEMO_AUDIENCE).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ZT_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_client' });
    expect((error as Error).message).not.toContain('wrong-secret-value');
  });

  it('serves the cached token while the IdP is down and the token still valid', async () => {
    let now = Date.now();
    const flaky = await startTestIdentityProvider({ accessTokenTtlSeconds: 60 });
    const client = make({ issuer: flaky.issuer, refreshSkew: 20, clock: () => now });
    const first = await client.getToken(DEMO_AUDIENCE);
    await flaky.stop();
    now += 45_000; // refresh due, the IdP is gone, the token has 15 s left
    expect(await client.getToken(DEMO_AUDIENCE)).toBe(first);
    now += 15_000; // expired: no token to serve
    await expect(client.getToken(DEMO_AUDIENCE)).rejects.toMatchObject({
      code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
    });
  });

  it('gets DPoP-bound tokens, answering the IdP nonce challenge, and signs each call', async () => {
    const client = make({ dpop: true });
    const token = await client.getToken(DEMO_AUDIENCE);
    expect(client.tokenRequestCount).toBe(2); // use_dpop_nonce, then the proof with the nonce
    expect(token.tokenType).toBe('DPoP');
    expect(decodeJwt(token.accessToken).cnf).toEqual({ jkt: client.dpopThumbprint });

    const resource = await startResource(() => 200);
    try {
      await client.fetch(DEMO_AUDIENCE, `${resource.url}/x?y=1`, { method: 'PUT', body: 'z' });
      const headers = resource.seen[0]?.headers ?? {};
      expect(headers.authorization).toBe(`DPoP ${token.accessToken}`);
      const proof = decodeJwt(String(headers.dpop));
      expect(proof).toMatchObject({
        htm: 'PUT',
        htu: `${resource.url}/x`,
        ath: createHash('sha256').update(token.accessToken).digest('base64url'),
      });
    } finally {
      await stop(resource.server);
    }
  });

  it('answers a resource server nonce challenge once, with the same DPoP token', async () => {
    const resource = await startResource((_request, index) => (index === 0 ? 401 : 200), {
      'dpop-nonce': 'server-nonce-1',
      'www-authenticate': 'DPoP error="use_dpop_nonce"',
    });
    try {
      const client = make({ dpop: true });
      const response = await client.fetch(DEMO_AUDIENCE, `${resource.url}/n`);
      expect(response.status).toBe(200);
      const [first, second] = resource.seen.map((request) => request.headers);
      expect(second?.authorization).toBe(first?.authorization);
      expect(decodeJwt(String(first?.dpop)).nonce).toBeUndefined();
      expect(decodeJwt(String(second?.dpop)).nonce).toBe('server-nonce-1');
      expect(resource.seen).toHaveLength(2);
    } finally {
      await stop(resource.server);
    }
  });

  it('gives other HTTP clients the headers to send (axios interceptor)', async () => {
    const client = make();
    const headers = await client.authorizationHeaders(DEMO_AUDIENCE, {
      method: 'get',
      url: 'http://127.0.0.1:1/x',
      requestId: 'r-1',
    });
    const token = await client.getToken(DEMO_AUDIENCE);
    expect(headers).toEqual({
      authorization: `Bearer ${token.accessToken}`,
      'x-request-id': 'r-1',
    });
    expect(client.tokenRequestCount).toBe(1);
  });

  it('forwards the id of the request being handled by default', async () => {
    const resource = await startResource(() => 200);
    try {
      const client = make();
      // What ZeroTrustModule does around each handler (its request id interceptor).
      await runWithRequestId('edge-77', () => client.fetch(DEMO_AUDIENCE, `${resource.url}/x`));
      await client.fetch(DEMO_AUDIENCE, `${resource.url}/y`);
      const [inside, outside] = resource.seen.map((request) => request.headers);
      expect(inside?.['x-request-id']).toBe('edge-77');
      expect(outside?.['x-request-id']).toBeUndefined();
      const headers = await runWithRequestId('edge-78', () =>
        client.authorizationHeaders(DEMO_AUDIENCE, { method: 'get', url: `${resource.url}/z` }),
      );
      expect(headers['x-request-id']).toBe('edge-78');
    } finally {
      await stop(resource.server);
    }
  });

  describe.each(ADAPTERS)('billing-worker over mutual TLS (%s)', (adapter) => {
    let api: RunningApi;
    beforeAll(async () => {
      api = await startDemoApi(
        { issuer: idp.issuer, adapter },
        { mtls: await readMutualTlsSettings(idp.dataDir) },
      );
    });
    afterAll(async () => {
      await api.close();
    });

    it('gets a certificate-bound token with tls_client_auth and records a payment', async () => {
      const own = idp.pki.workloads['billing-worker'];
      const tls = { key: own.key, cert: own.cert, ca: idp.pki.caCert };
      const client = make({ clientId: 'billing-worker', clientSecret: undefined, tls });
      const token = await client.getToken(DEMO_AUDIENCE);
      const thumbprint = createHash('sha256')
        .update(new X509Certificate(own.cert).raw)
        .digest('base64url');
      expect(decodeJwt(token.accessToken)).toMatchObject({
        client_id: 'billing-worker',
        cnf: { 'x5t#S256': thumbprint },
      });

      const response = await client.fetch(DEMO_AUDIENCE, `${api.mtlsUrl ?? ''}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ invoiceId: 'inv-2', amount: 500 }),
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ recordedBy: 'billing-worker' });
    });

    it('never completes the handshake without a client certificate of the CA', async () => {
      const trusting = new Agent({ connect: { ca: idp.pki.caCert } });
      try {
        const url = `${api.mtlsUrl ?? ''}/health`;
        await expect(undiciFetch(url, { dispatcher: trusting })).rejects.toThrow('fetch failed');
        // The same server certificate is trusted: with the worker's certificate it answers.
        const own = idp.pki.workloads['billing-worker'];
        const health = await call(api, 'GET', '/health', {
          tls: { key: own.key, cert: own.cert, ca: idp.pki.caCert },
        });
        expect(health.status).toBe(200);
      } finally {
        await trusting.close();
      }
    });

    it('refuses a token issued for another audience (the ledger)', async () => {
      const ledger = await idp.serviceToken('reporting-service', DEMO_LEDGER_AUDIENCE);
      expect(decodeJwt(ledger).aud).toBe(DEMO_LEDGER_AUDIENCE);
      const refused = await call(api, 'GET', '/reports/revenue', { token: ledger });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('ZT_TOKEN_AUDIENCE_INVALID');
      const own = await idp.serviceToken('reporting-service');
      expect((await call(api, 'GET', '/reports/revenue', { token: own })).status).toBe(200);
    });
  });
});
