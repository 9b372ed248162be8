import { Controller, Get, Module } from '@nestjs/common';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import {
  Public,
  ZeroTrustConfigurationError,
  ZeroTrustModule,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import { createDpopKey, createDpopProof, type TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PUBLIC_URLS } from '../../apps/demo-api/src/config.js';
import { ADAPTERS, startDemoApi, startDemoIssuer, type RunningApi } from '../support/demo-api.js';
import { listenApp } from '../support/nest-app.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

/*
 * Issue 17 §5: a request that could be read two ways is refused, never served with the first or
 * the last of its readings. Raw HTTP, so headers repeat exactly as sent (fetch would merge them).
 * SECURITY.md, invariant 5.
 */
const INVALID_REQUEST = /^Bearer error="invalid_request", error_description="[^"]+"$/;

describe.each(ADAPTERS)('requests that could be read two ways (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter });
    alice = issuer.sign({ sub: 'alice', roles: ['customer'] });
    bob = issuer.sign({ sub: 'bob', roles: ['customer'] });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  /** One raw request; the audit events it produced (the peer, 127.0.0.1, is a trusted proxy). */
  async function send(
    options: Parameters<typeof rawRequest>[1],
  ): Promise<{ response: RawResponse; events: DecisionEvent[] }> {
    api.sink.events.length = 0;
    const response = await rawRequest(api.url, options);
    await api.app.get(AuditService).flush();
    return { response, events: [...api.sink.events] };
  }

  /** 400 invalid_request with `code`, one deny event with that code, nothing of a token echoed. */
  function expectRefused(
    { response, events }: Awaited<ReturnType<typeof send>>,
    code: string,
    action: string,
  ): void {
    expect({
      status: response.status,
      code: (JSON.parse(response.body) as { code: string }).code,
    }).toEqual({ status: 400, code });
    expect(response.headers['www-authenticate']).toMatch(INVALID_REQUEST);
    const denied = events.filter((e) => e.decision === 'deny');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ code, action });
    expect(events.filter((e) => e.decision === 'allow')).toHaveLength(0);
    for (const token of [alice, bob]) {
      expect(response.body).not.toContain(token.slice(-24));
      expect(JSON.stringify(events)).not.toContain(token.slice(-24));
    }
  }

  it('serves one token in one Authorization header (the cases can fail)', async () => {
    const { response } = await send({ path: '/me', headers: { authorization: `Bearer ${alice}` } });
    expect(response.status).toBe(200);
  });

  it('AMB-TWO-HEADERS: refuses two Authorization headers, in either order, valid or not', async () => {
    for (const pair of [
      [`Bearer ${alice}`, `Bearer ${bob}`],
      [`Bearer ${bob}`, `Bearer ${alice}`],
      [`Bearer ${alice}`, 'Bearer junk'],
      ['Bearer junk', `Bearer ${alice}`],
    ])
      expectRefused(
        await send({ path: '/me', headers: { authorization: pair } }),
        'ZT_AMBIGUOUS_CREDENTIALS',
        'malicious_extraneous',
      );
  });

  it('AMB-HEADER-QUERY: refuses a header with an access_token in the query', async () => {
    for (const query of [`access_token=${bob}`, `access_token[]=${bob}`])
      expectRefused(
        await send({ path: `/me?${query}`, headers: { authorization: `Bearer ${alice}` } }),
        'ZT_AMBIGUOUS_CREDENTIALS',
        'malicious_extraneous',
      );
  });

  it('AMB-HEADER-FORM: refuses a header with an access_token in a form body', async () => {
    expectRefused(
      await send({
        method: 'POST',
        path: '/payments',
        headers: {
          authorization: `Bearer ${alice}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `invoiceId=inv-1&amount=1&access_token=${bob}`,
      }),
      'ZT_AMBIGUOUS_CREDENTIALS',
      'malicious_extraneous',
    );
  });

  it('AMB-TOKEN-PARAMETER: refuses an access_token in the query or a form body alone (400, not anonymous)', async () => {
    for (const query of [`access_token=${alice}`, `x=1&access_token[]=${alice}`])
      expectRefused(
        await send({ path: `/me?${query}` }),
        'ZT_TOKEN_METHOD_UNSUPPORTED',
        'authn_token_invalid',
      );
    expectRefused(
      await send({
        method: 'POST',
        path: '/payments',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${alice}`,
      }),
      'ZT_TOKEN_METHOD_UNSUPPORTED',
      'authn_token_invalid',
    );
  });

  it('AMB-BEARER-DPOP: refuses a Bearer token next to a DPoP proof of another key', async () => {
    const proof = createDpopProof({
      key: createDpopKey(),
      method: 'GET',
      url: `${DEMO_PUBLIC_URLS[0] as string}/me`,
      accessToken: alice,
    });
    expectRefused(
      await send({ path: '/me', headers: { authorization: `Bearer ${alice}`, dpop: proof } }),
      'ZT_AMBIGUOUS_CREDENTIALS',
      'malicious_extraneous',
    );
  });

  it("DPOP-HOST-HTU: refuses a DPoP proof naming the request's own Host instead of the public URL", async () => {
    const key = createDpopKey();
    const token = issuer.sign({ sub: 'alice', roles: ['customer'], cnf: { jkt: key.jkt } });
    const proofFor = (url: string): string =>
      createDpopProof({ key, method: 'GET', url: `${url}/me`, accessToken: token });
    const own = await send({
      path: '/me',
      headers: { authorization: `DPoP ${token}`, dpop: proofFor(api.url) },
    });
    expect(own.response.status).toBe(401);
    expect(JSON.parse(own.response.body)).toMatchObject({ code: 'ZT_DPOP_PROOF_INVALID' });
    expect(own.response.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
    // The same proof for the configured public URL is accepted: the htu made the refusal.
    const published = await send({
      path: '/me',
      headers: { authorization: `DPoP ${token}`, dpop: proofFor(DEMO_PUBLIC_URLS[0] as string) },
    });
    expect(published.response.status).toBe(200);
  });

  /** The address the authentication event of a GET /me from the trusted proxy recorded. */
  async function addressOf(
    headers: Record<string, string>,
  ): Promise<{ ip: string | undefined; problems: DecisionEvent[] }> {
    const { response, events } = await send({
      path: '/me',
      headers: { authorization: `Bearer ${alice}`, ...headers },
    });
    expect(response.status).toBe(200);
    const valid = events.find((e) => e.action === 'authn_token_valid');
    return {
      ip: valid?.request.ip,
      problems: events.filter((e) => e.code === 'ZT_FORWARDED_INVALID'),
    };
  }

  it('FWD-PORTS: reads X-Forwarded-For entries with ports, and ignores Forwarded', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'x-forwarded-for': '203.0.113.7:4711' }, '203.0.113.7'],
      [{ 'x-forwarded-for': '[2001:db8::1]:443' }, '2001:db8::1'],
      [{ 'x-forwarded-for': '203.0.113.8:1', forwarded: 'for="203.0.113.9:2"' }, '203.0.113.8'],
      // Forwarded is not the configured header: not read, not audited.
      [{ forwarded: 'for=198.51.100.9' }, '127.0.0.1'],
    ];
    for (const [headers, ip] of cases) {
      expect(await addressOf(headers)).toEqual({ ip, problems: [] });
    }
  });

  it('FWD-MALFORMED: an entry that is no address stops at the last trusted hop, audited', async () => {
    const { ip, problems } = await addressOf({ 'x-forwarded-for': '203.0.113.7, garbage!' });
    expect(ip).toBe('127.0.0.1');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      action: 'malicious_extraneous',
      reason: 'X-Forwarded-For entry 1 from the right is not an address',
    });
    expect(JSON.stringify(problems[0])).not.toContain('garbage');
    // On a public route too, where no credential is read.
    const health = await send({ path: '/health', headers: { 'x-forwarded-for': 'garbage!' } });
    expect(health.events.filter((e) => e.code === 'ZT_FORWARDED_INVALID')).toHaveLength(1);
  });

  it('FWD-CLIENT: no header a client sends makes the proxy its address', async () => {
    // The proxy (the test's peer, 127.0.0.1) appends the real client, 203.0.113.7, to whatever
    // X-Forwarded-For the client sent, and passes the client's Forwarded through unchanged.
    for (const sent of ['garbage!', '1.2.3.4:99999', 'unknown', '127.0.0.1', '', '"']) {
      for (const forwarded of ['for=198.51.100.1', 'for=garbage', 'proto=https', 'for="1.2.3.4']) {
        expect(await addressOf({ 'x-forwarded-for': `${sent}, 203.0.113.7`, forwarded })).toEqual({
          ip: '203.0.113.7',
          problems: [],
        });
      }
    }
  });
});

/** The address the authentication event of a GET /me recorded, and any forwarding problems. */
async function addressSeen(
  api: RunningApi,
  token: string,
  headers: Record<string, string>,
): Promise<{ ip: string | undefined; problems: string[] }> {
  api.sink.events.length = 0;
  const response = await rawRequest(api.url, {
    path: '/me',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  await api.app.get(AuditService).flush();
  expect(response.status).toBe(200);
  const events = [...api.sink.events];
  return {
    ip: events.find((e) => e.action === 'authn_token_valid')?.request.ip,
    problems: events.filter((e) => e.code === 'ZT_FORWARDED_INVALID').map((e) => e.reason ?? ''),
  };
}

describe.each(ADAPTERS)('client address from RFC 7239 Forwarded (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  let alice: string;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter, forwardedHeader: 'forwarded' });
    alice = issuer.sign({ sub: 'alice', roles: ['customer'] });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('FWD-RFC7239: reads Forwarded with ports and quotes, and ignores X-Forwarded-For', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' }, '2001:db8:cafe::17'],
      [{ forwarded: 'for=198.51.100.9, for=127.0.0.1' }, '198.51.100.9'],
      [{ forwarded: 'for=203.0.113.8', 'x-forwarded-for': '198.51.100.1' }, '203.0.113.8'],
      // X-Forwarded-For is not the configured header: not read, not audited.
      [{ 'x-forwarded-for': 'garbage!' }, '127.0.0.1'],
    ];
    for (const [headers, ip] of cases) {
      expect(await addressSeen(api, alice, headers)).toEqual({ ip, problems: [] });
    }
    expect(await addressSeen(api, alice, { forwarded: 'for=198.51.100.9, for' })).toEqual({
      ip: '127.0.0.1',
      problems: ['Forwarded entry 1 from the right is not an address'],
    });
  });

  it('FWD-CLIENT: no header a client sends makes the proxy its address', async () => {
    // The proxy (127.0.0.1) appends `for=203.0.113.7` after the client's own Forwarded and passes
    // the client's X-Forwarded-For through unchanged. An unterminated quote ends its own element.
    const sent = ['for=garbage', 'proto=https', 'for=unknown', 'for="1.2.3.4', 'for=a;for=b', '"'];
    for (const element of sent) {
      for (const xff of ['198.51.100.1', 'garbage!', '1.2.3.4:99999']) {
        expect(
          await addressSeen(api, alice, {
            forwarded: `${element}, for=203.0.113.7`,
            'x-forwarded-for': xff,
          }),
        ).toEqual({ ip: '203.0.113.7', problems: [] });
      }
    }
  });
});

@Controller()
class PingController {
  @Public()
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

describe.each(ADAPTERS)('DPoP without a public URL (%s)', (adapter) => {
  it('DPOP-NO-ORIGIN: refuses to boot, listing the problem with the others', async () => {
    const options = {
      issuer: 'https://idp.example.com',
      audience: 'https://api.example.com',
      dpop: { iatWindow: 0 },
    } as unknown as ZeroTrustModuleOptions;
    @Module({ imports: [ZeroTrustModule.forRoot(options)], controllers: [PingController] })
    class NoOriginModule {}
    const failure = await listenApp(NoOriginModule, adapter).then(
      async ({ app }) => {
        await app.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((failure as ZeroTrustConfigurationError).problems).toEqual([
      expect.stringMatching(/^dpop\.iatWindow must be/),
      expect.stringMatching(/^dpop\.publicUrl is required/),
    ]);
  });
});
