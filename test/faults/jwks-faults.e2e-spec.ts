import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { JwksKeySource } from '../../libs/zero-trust/src/identity/jwks-key-source.js';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADAPTERS, type RunningApi, startDemoIssuer } from '../support/demo-api.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startFaultApi } from './fault-api.js';

const T0 = new Date('2026-06-01T12:00:00Z').getTime();
/** Moves the clock the library reads (Date only: sockets and timeouts keep real time). */
const at = (seconds: number): void => {
  vi.setSystemTime(T0 + seconds * 1000);
};

async function me(api: RunningApi, token: string): Promise<RawResponse & { code?: string }> {
  const response = await rawRequest(api.url, {
    path: '/me',
    headers: { authorization: `Bearer ${token}` },
  });
  const code = (JSON.parse(response.body || '{}') as { code?: string }).code;
  return { ...response, code };
}

describe.each(ADAPTERS)('faults: the JWKS endpoint goes down and comes back (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    issuer = await startDemoIssuer({ lifetime: 600 });
    api = await startFaultApi(issuer.url, adapter, { maxAge: 120, cooldown: 30, timeout: 1 });
    await api.app.get(JwksKeySource).refresh();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await api?.close();
    await issuer?.close();
  });

  it('serves cached keys until their maximum age, then fails closed with 503, then recovers', async () => {
    const cached = issuer.sign({ sub: 'alice' });
    expect((await me(api, cached)).status).toBe(200);
    issuer.available = false;

    at(119); // inside the maximum age: the last good set serves, old and new tokens alike
    expect((await me(api, cached)).status).toBe(200);
    expect((await me(api, issuer.sign({ sub: 'bob' }))).status).toBe(200);
    expect((await rawRequest(api.url, { path: '/health' })).status).toBe(200);

    at(121); // past it, with the issuer still down: every token is refused, even a cached one
    api.sink.events.length = 0;
    for (const token of [cached, issuer.sign({ sub: 'carol' })]) {
      const response = await me(api, token);
      expect(response.status).toBe(503);
      expect(response.code).toBe('ZT_KEYS_UNAVAILABLE');
      expect(response.body).toContain('The signing keys of the issuer are unavailable');
    }
    expect(api.sink.events.map((e) => [e.decision, e.code])).toEqual([
      ['deny', 'ZT_KEYS_UNAVAILABLE'],
      ['deny', 'ZT_KEYS_UNAVAILABLE'],
    ]);
    const health = await rawRequest(api.url, { path: '/health' });
    expect(health.status).toBe(503);
    // A burst while down costs at most one fetch per second.
    const before = issuer.jwksRequests;
    await Promise.all(Array.from({ length: 20 }, () => me(api, cached)));
    expect(issuer.jwksRequests - before).toBeLessThanOrEqual(1);

    issuer.available = true;
    at(123);
    expect((await me(api, cached)).status).toBe(200);
    expect((await rawRequest(api.url, { path: '/health' })).status).toBe(200);
  });
});

describe.each(ADAPTERS)('faults: the IdP is down when the API boots (%s)', (adapter) => {
  it('refuses with 503 and a down health check, at most one fetch a second, then recovers', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const issuer = await startDemoIssuer();
    issuer.available = false;
    const api = await startFaultApi(issuer.url, adapter, {});
    try {
      const token = issuer.sign({ sub: 'alice' });
      await api.app
        .get(JwksKeySource)
        .refresh()
        .catch(() => undefined);
      const responses = await Promise.all(Array.from({ length: 20 }, () => me(api, token)));
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 503));
      expect(responses[0]?.code).toBe('ZT_KEYS_UNAVAILABLE');
      expect((await rawRequest(api.url, { path: '/health' })).status).toBe(503);
      expect(issuer.jwksRequests).toBe(1);
      issuer.available = true;
      at(2);
      expect((await me(api, token)).status).toBe(200);
      expect((await rawRequest(api.url, { path: '/health' })).status).toBe(200);
    } finally {
      vi.useRealTimers();
      await api.close();
      await issuer.close();
    }
  });
});

describe.each(ADAPTERS)('faults: a spray of random kids (%s)', (adapter) => {
  it('costs at most one JWKS fetch per cooldown', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const issuer = await startDemoIssuer();
    const api = await startFaultApi(issuer.url, adapter, { cooldown: 30 });
    try {
      await api.app.get(JwksKeySource).refresh();
      const spray = (): Promise<RawResponse[]> =>
        Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            me(api, issuer.sign({}, { header: { kid: `spray-${i}-${Math.random()}` } })),
          ),
        );
      const before = issuer.jwksRequests;
      expect((await spray()).every((r) => r.status === 401)).toBe(true);
      expect(issuer.jwksRequests - before).toBe(0); // within the cooldown of the boot fetch
      at(31);
      expect((await spray()).every((r) => r.status === 401)).toBe(true);
      expect(issuer.jwksRequests - before).toBe(1); // one merged refetch for 100 unknown kids
      expect((await spray()).every((r) => r.status === 401)).toBe(true);
      expect(issuer.jwksRequests - before).toBe(1);
      at(62);
      await spray();
      expect(issuer.jwksRequests - before).toBe(2);
    } finally {
      vi.useRealTimers();
      await api.close();
      await issuer.close();
    }
  });
});

describe.each(ADAPTERS)('faults: key rotation at the IdP (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    issuer = await startDemoIssuer();
    api = await startFaultApi(issuer.url, adapter, { cooldown: 0 });
    await api.app.get(JwksKeySource).refresh();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await api?.close();
    await issuer?.close();
  });

  it('picks up a new kid; old tokens work until expiry while the old key is published', async () => {
    const old = issuer.sign({ sub: 'alice', exp: Math.floor(T0 / 1000) + 60 });
    expect((await me(api, old)).status).toBe(200);

    issuer.rotate();
    const before = issuer.jwksRequests;
    const fresh = issuer.sign({ sub: 'bob' });
    expect((await me(api, fresh)).status).toBe(200);
    expect(issuer.jwksRequests - before).toBe(1);

    at(59);
    expect((await me(api, old)).status).toBe(200);
    at(66); // past exp and the 5 s clock tolerance
    const expired = await me(api, old);
    expect(expired.status).toBe(401);
    expect(expired.code).toBe('ZT_TOKEN_EXPIRED');
    expect(expired.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('stops verifying a key removed from the JWKS, even for a token in the verified-token cache', async () => {
    const old = issuer.sign({ sub: 'alice' });
    expect((await me(api, old)).status).toBe(200); // now in the verified-token cache

    issuer.rotate({ dropOld: true });
    expect((await me(api, issuer.sign({ sub: 'bob' }))).status).toBe(200); // triggers the refetch
    const response = await me(api, old);
    expect(response.status).toBe(401);
    expect(response.code).toBe('ZT_TOKEN_KEY_UNKNOWN');
    expect(api.sink.last()?.code).toBe('ZT_TOKEN_KEY_UNKNOWN');
  });
});

/** A TCP server that accepts connections and never answers a byte. */
async function startHangingServer(): Promise<{
  url: string;
  accepted: number;
  open: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const state = { accepted: 0 };
  const server: Server = createServer((socket) => {
    state.accepted += 1;
    sockets.add(socket);
    socket.resume(); // read (and drop) the request, so a client's close is seen
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() {
      return state.accepted;
    },
    get open() {
      return sockets.size;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.each(ADAPTERS)('faults: an IdP that accepts and never answers (%s)', (adapter) => {
  it('answers 503 within jwks.timeout, merges the waiting requests, and leaves no socket open', async () => {
    const hanging = await startHangingServer();
    // Tokens shaped right, signed by a key the hanging IdP would never serve.
    const signer = await startDemoIssuer();
    const api = await startFaultApi(hanging.url, adapter, { timeout: 0.5 });
    try {
      const started = performance.now();
      const burst = await Promise.all(
        Array.from({ length: 30 }, () => me(api, signer.sign({ iss: hanging.url }))),
      );
      const elapsed = performance.now() - started;
      expect(burst.map((r) => r.status)).toEqual(burst.map(() => 503));
      expect(new Set(burst.map((r) => r.code))).toEqual(new Set(['ZT_KEYS_UNAVAILABLE']));
      // Bounded: one timeout (plus the boot fetch still in flight), not one per request.
      expect(elapsed).toBeLessThan(3000);
      expect(hanging.accepted).toBeLessThanOrEqual(2);
      // Right after a failure the next requests are refused at once, without a new connection.
      const again = await me(api, signer.sign({ iss: hanging.url }));
      expect(again.status).toBe(503);
      expect(hanging.accepted).toBeLessThanOrEqual(2);
      // Aborted fetches close their sockets.
      for (let i = 0; i < 50 && hanging.open > 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(hanging.open).toBe(0);
    } finally {
      await api.close();
      await signer.close();
      await hanging.close();
    }
  });
});
