import { createHash } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';

import { HttpService } from '@nestjs/axios';
import { AxiosError, create as createAxios } from 'axios';
import { decodeJwt } from 'jose';
import { AuditService } from 'nestjs-zero-trust/audit';
import { ServiceTokenClient, type ServiceTokenClientOptions } from 'nestjs-zero-trust/client';
import { mutualTlsAgent, useServiceToken } from 'nestjs-zero-trust/axios';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { DEMO_AUDIENCE } from '../apps/identity/src/constants.js';
import { runWithRequestId } from '../libs/zero-trust/src/context/request-id.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from './support/identity.js';
import { startResource, stop, type RecordingResource } from './support/resource-server.js';

describe('useServiceToken (axios, @nestjs/axios) against the demo IdP', () => {
  let idp: TestIdentityProvider;
  const clients: ServiceTokenClient[] = [];
  const resources: RecordingResource[] = [];
  const make = (options: Partial<ServiceTokenClientOptions> = {}): ServiceTokenClient => {
    const client = new ServiceTokenClient({
      issuer: idp.issuer,
      clientId: 'reporting-service',
      clientSecret: 'reporting-service-secret',
      ...options,
    });
    clients.push(client);
    return client;
  };
  const resource = async (
    ...args: Parameters<typeof startResource>
  ): Promise<RecordingResource> => {
    const started = await startResource(...args);
    resources.push(started);
    return started;
  };

  beforeAll(async () => {
    idp = await startTestIdentityProvider({ accessTokenTtlSeconds: 60 });
  });
  afterAll(async () => {
    await Promise.all(resources.map((started) => stop(started.server)));
    await Promise.all(clients.map((client) => client.close()));
    await idp?.stop();
  });

  it('sends the cached token on HttpService calls and renews it ahead of expiry (pinned clock)', async () => {
    let now = Date.now();
    const client = make({ refreshSkew: 20, clock: () => now });
    const target = await resource(() => 200);
    const http = new HttpService(createAxios({ baseURL: target.url }));
    useServiceToken(http, client, { audience: DEMO_AUDIENCE });

    await firstValueFrom(http.get('/a'));
    now += 39_000; // still fresh
    await firstValueFrom(http.post('/b', { amount: 1 }));
    now += 2000; // inside the skew: a new token
    await firstValueFrom(http.get('/c'));

    const [first, second, third] = target.seen.map((request) => request.headers.authorization);
    expect(first).toMatch(/^Bearer /);
    expect(second).toBe(first);
    expect(third).toMatch(/^Bearer /);
    expect(third).not.toBe(first);
    expect(client.tokenRequestCount).toBe(2);
    expect(decodeJwt(String(third).slice('Bearer '.length)).aud).toBe(DEMO_AUDIENCE);
  });

  it('shares one token request between concurrent axios calls', async () => {
    const client = make();
    const target = await resource(() => 200);
    const instance = createAxios({ baseURL: target.url });
    useServiceToken(instance, client, { audience: DEMO_AUDIENCE });
    await Promise.all(Array.from({ length: 8 }, (_, index) => instance.get(`/n/${index}`)));
    expect(client.tokenRequestCount).toBe(1);
    expect(new Set(target.seen.map((request) => request.headers.authorization)).size).toBe(1);
  });

  it('gives up after one retry: a second 401 rejects as axios does, or resolves with validateStatus', async () => {
    const client = make();
    const target = await resource(() => 401);
    const instance = createAxios({ baseURL: target.url });
    useServiceToken(instance, client, { audience: DEMO_AUDIENCE });

    const error = await instance.get('/x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).response?.status).toBe(401);
    expect(target.seen).toHaveLength(2);
    expect(client.tokenRequestCount).toBe(2);
    const [first, second] = target.seen.map((request) => request.headers.authorization);
    expect(second).not.toBe(first);

    const lenient = await instance.get('/y', { validateStatus: () => true });
    expect(lenient.status).toBe(401);
    expect(target.seen).toHaveLength(4);
    expect(client.tokenRequestCount).toBe(3);
  });

  it('does not replay a stream body: the 401 comes back after one attempt', async () => {
    const client = make();
    const target = await resource(() => 401);
    const instance = createAxios({ baseURL: target.url });
    useServiceToken(instance, client, { audience: DEMO_AUDIENCE });
    const error = await instance
      .post('/upload', Readable.from(['a', 'b']))
      .catch((caught: unknown) => caught);
    expect((error as AxiosError).response?.status).toBe(401);
    expect(target.seen).toHaveLength(1);
    expect(client.tokenRequestCount).toBe(1);
  });

  it('attaches tokens only to the configured origins', async () => {
    const client = make();
    const mine = await resource(() => 200);
    const elsewhere = await resource(() => 200);
    const instance = createAxios();
    const handle = useServiceToken(instance, client, {
      audience: DEMO_AUDIENCE,
      origins: [mine.url],
    });
    await instance.get(`${mine.url}/x`);
    await instance.get(`${elsewhere.url}/x`);
    expect(mine.seen[0]?.headers.authorization).toMatch(/^Bearer /);
    expect(elsewhere.seen[0]?.headers.authorization).toBeUndefined();

    handle.eject();
    await instance.get(`${mine.url}/y`);
    expect(mine.seen[1]?.headers.authorization).toBeUndefined();
    expect(() => useServiceToken(instance, client, { audience: 'not a uri' })).toThrow(TypeError);
  });

  it('forwards the id of the request being handled as X-Request-Id', async () => {
    const client = make();
    const target = await resource(() => 200);
    const instance = createAxios({ baseURL: target.url });
    useServiceToken(instance, client, { audience: DEMO_AUDIENCE });
    await runWithRequestId('edge-91', () => instance.get('/x'));
    await instance.get('/y');
    const [inside, outside] = target.seen.map((request) => request.headers);
    expect(inside?.['x-request-id']).toBe('edge-91');
    expect(outside?.['x-request-id']).toBeUndefined();
  });

  it('signs each call with a DPoP proof and answers a nonce challenge once, same token', async () => {
    const client = make({ dpop: true });
    const target = await resource((_request, index) => (index === 0 ? 401 : 200), {
      'dpop-nonce': 'axios-nonce-1',
      'www-authenticate': 'DPoP error="use_dpop_nonce"',
    });
    const instance = createAxios({ baseURL: target.url });
    useServiceToken(instance, client, { audience: DEMO_AUDIENCE });
    const response = await instance.put('/things/1?v=2', { a: 1 });
    expect(response.status).toBe(200);

    const token = await client.getToken(DEMO_AUDIENCE);
    expect(token.tokenType).toBe('DPoP');
    const [first, second] = target.seen.map((request) => request.headers);
    expect(first?.authorization).toBe(`DPoP ${token.accessToken}`);
    expect(second?.authorization).toBe(first?.authorization);
    const proof = decodeJwt(String(second?.dpop));
    expect(proof).toMatchObject({
      htm: 'PUT',
      htu: `${target.url}/things/1`,
      ath: createHash('sha256').update(token.accessToken).digest('base64url'),
      nonce: 'axios-nonce-1',
    });
    expect(decodeJwt(String(first?.dpop)).nonce).toBeUndefined();
    expect(target.seen).toHaveLength(2);
  });

  describe.each(ADAPTERS)('against the demo API (%s)', (adapter) => {
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

    it('retries once with a fresh token when the API refuses the cached one (revoked)', async () => {
      const client = make();
      const instance = createAxios({ baseURL: api.url });
      useServiceToken(instance, client, { audience: DEMO_AUDIENCE });
      const cached = await client.getToken(DEMO_AUDIENCE);
      const carol = await idp.userToken('carol');
      const revoked = await call(api, 'POST', '/admin/revocations', {
        token: carol,
        body: { jti: decodeJwt(cached.accessToken).jti },
      });
      expect(revoked.status).toBe(201);

      const response = await instance.get('/reports/revenue');
      expect(response.status).toBe(200);
      expect(client.tokenRequestCount).toBe(2);
      await api.app.get(AuditService).flush();
      const mine = api.sink.events.filter((event) => event.request?.route === '/reports/revenue');
      // Two requests, one decision record each.
      expect(mine.slice(-2).map((event) => [event.action, event.code ?? null])).toEqual([
        ['authn_token_revoked', 'ZT_TOKEN_REVOKED'],
        ['authz_success', null],
      ]);
      expect(mine.at(-1)?.stages?.map((stage) => stage.action)).toEqual([
        'authn_token_valid',
        'authz_success',
      ]);
    });

    it('calls the mutual-TLS listener as billing-worker with a certificate-bound token (httpsAgent)', async () => {
      const tls = workloadTls(idp);
      const client = make({ clientId: 'billing-worker', clientSecret: undefined, tls });
      const httpsAgent = mutualTlsAgent(tls);
      try {
        const http = new HttpService(createAxios({ baseURL: api.mtlsUrl ?? '', httpsAgent }));
        useServiceToken(http, client, { audience: DEMO_AUDIENCE, origins: [api.mtlsUrl ?? ''] });
        const payment = await firstValueFrom(
          http.post('/payments', { invoiceId: 'inv-2', amount: 25 }),
        );
        expect(payment.status).toBe(201);
        expect(payment.data).toMatchObject({ recordedBy: 'billing-worker' });
        const status = await firstValueFrom(http.patch('/invoices/inv-2', { status: 'paid' }));
        expect(status.status).toBe(200);
        expect(client.tokenRequestCount).toBe(1);
        const token = await client.getToken(DEMO_AUDIENCE);
        expect(decodeJwt(token.accessToken).cnf).toHaveProperty(['x5t#S256']);

        // The same token over an agent without the certificate never gets through.
        const bare = createAxios({
          baseURL: api.mtlsUrl ?? '',
          httpsAgent: new HttpsAgent({ ca: tls.ca }),
        });
        const refused = await bare
          .post(
            '/payments',
            { invoiceId: 'inv-2', amount: 1 },
            {
              headers: { authorization: `Bearer ${token.accessToken}` },
            },
          )
          .catch((caught: unknown) => caught);
        expect(refused).toBeInstanceOf(AxiosError);
        expect((refused as AxiosError).response).toBeUndefined(); // no handshake, no answer
      } finally {
        httpsAgent.destroy();
      }
    });
  });
});
