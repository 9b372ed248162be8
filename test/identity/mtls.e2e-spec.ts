import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TestCertificateAuthority,
  TestIssuer,
  type TestCertificate,
} from 'nestjs-zero-trust/testing';
import { ADAPTERS } from '../support/demo-api.js';
import { httpsCall, startIdentityApi, type RunningIdentityApi } from '../support/identity-api.js';

const AUDIENCE = 'https://api.identity.test';
const BILLING = 'spiffe://demo.local/billing-worker';
/** The trusted proxy's address: the whole 127/8 block is loopback on Linux. */
const PROXY = '127.0.0.2';

describe.each(ADAPTERS)('mTLS service identity (%s)', (adapter) => {
  let issuer: TestIssuer;
  let ca: TestCertificateAuthority;
  let api: RunningIdentityApi;
  let billing: TestCertificate;
  let reporting: TestCertificate;
  let foreign: TestCertificate;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    ca = await TestCertificateAuthority.create();
    const otherCa = await TestCertificateAuthority.create('another CA');
    billing = await ca.issueClient({ uris: [BILLING] });
    reporting = await ca.issueClient({ uris: ['spiffe://demo.local/reporting'] });
    foreign = await otherCa.issueClient({ uris: [BILLING] });
    api = await startIdentityApi({
      adapter,
      ca,
      server: await ca.issueServer(),
      zeroTrust: {
        issuer: issuer.url,
        audience: AUDIENCE,
        principals: { services: { 'billing-worker': {}, reporting: {} } },
        trustedProxies: [PROXY],
        mtls: { trustDomain: 'demo.local', source: 'both', requireForServices: true },
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  const serviceToken = (clientId: string, claims: Record<string, unknown> = {}): string =>
    issuer.sign({ sub: clientId, client_id: clientId, ...claims });

  async function expectRefused(
    answer: Awaited<ReturnType<typeof httpsCall>>,
    code: string,
  ): Promise<void> {
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe(code);
    expect(answer.challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
    expect(api.sink.last()?.code).toBe(code);
  }

  it('accepts a service with a certificate of its own SPIFFE ID, read from the socket', async () => {
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      client: billing,
      headers: { authorization: `Bearer ${serviceToken('billing-worker')}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      kind: 'service',
      id: 'billing-worker',
      certificate: {
        thumbprint: billing.thumbprint,
        source: 'socket',
        spiffeId: BILLING,
        service: 'billing-worker',
      },
      dpop: null,
    });
  });

  it('refuses a service without a certificate', async () => {
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      headers: { authorization: `Bearer ${serviceToken('billing-worker')}` },
    });
    await expectRefused(answer, 'ZT_CERTIFICATE_REQUIRED');
  });

  it('refuses a certificate from another CA', async () => {
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      client: foreign,
      headers: { authorization: `Bearer ${serviceToken('billing-worker')}` },
    });
    await expectRefused(answer, 'ZT_CERTIFICATE_UNTRUSTED');
  });

  it("refuses a service token presented with another service's certificate", async () => {
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      client: reporting,
      headers: { authorization: `Bearer ${serviceToken('billing-worker')}` },
    });
    await expectRefused(answer, 'ZT_CERTIFICATE_SERVICE_MISMATCH');
  });

  it('refuses certificates that are not one valid SPIFFE ID of the trust domain', async () => {
    const variants = [
      await ca.issueClient({ uris: [] }),
      await ca.issueClient({ uris: [BILLING, 'spiffe://demo.local/reporting'] }),
      await ca.issueClient({ uris: ['spiffe://other.local/billing-worker'] }),
      await ca.issueClient({ uris: ['spiffe://demo.local/../billing-worker'] }),
      await ca.issueClient({ uris: ['https://demo.local/billing-worker'] }),
    ];
    for (const client of variants) {
      const answer = await httpsCall(`${api.url}/me`, {
        ca: ca.cert,
        client,
        headers: { authorization: `Bearer ${serviceToken('billing-worker')}` },
      });
      await expectRefused(answer, 'ZT_SPIFFE_ID_INVALID');
    }
    // A CA certificate as a workload identity: TLS refuses it on the socket; forwarded by a
    // trusted proxy (which may not check its purpose), the library refuses it.
    const caLeaf = await ca.issueClient({ uris: [BILLING], ca: true });
    const direct = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      client: caLeaf,
      headers: { authorization: `Bearer ${serviceToken('billing-worker')}` },
    });
    await expectRefused(direct, 'ZT_CERTIFICATE_UNTRUSTED');
    const forwarded = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      localAddress: PROXY,
      headers: {
        authorization: `Bearer ${serviceToken('billing-worker')}`,
        'x-forwarded-client-cert': `Cert="${encodeURIComponent(caLeaf.cert)}"`,
      },
    });
    await expectRefused(forwarded, 'ZT_SPIFFE_ID_INVALID');
  });

  it('refuses a forged XFCC header on a direct connection and records it', async () => {
    const forged = `By=spiffe://demo.local/proxy;Cert="${encodeURIComponent(billing.cert)}";URI=${BILLING}`;
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      headers: {
        authorization: `Bearer ${serviceToken('billing-worker')}`,
        'x-forwarded-client-cert': forged,
      },
    });
    await expectRefused(answer, 'ZT_XFCC_UNTRUSTED');
    expect(api.sink.last()).toMatchObject({ decision: 'deny', action: 'malicious_extraneous' });
    // Even without a token: the forgery itself is refused.
    const bare = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      headers: { 'x-forwarded-client-cert': forged },
    });
    expect(bare.body.code).toBe('ZT_XFCC_UNTRUSTED');
  });

  it('accepts the client certificate forwarded by a trusted proxy in XFCC', async () => {
    const hash = Buffer.from(billing.thumbprint, 'base64url').toString('hex');
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      localAddress: PROXY,
      headers: {
        authorization: `Bearer ${serviceToken('billing-worker')}`,
        'x-forwarded-client-cert': `By=spiffe://demo.local/edge;Hash=${hash};Cert="${encodeURIComponent(billing.cert)}";URI=${BILLING}`,
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.certificate).toMatchObject({
      source: 'xfcc',
      spiffeId: BILLING,
      thumbprint: billing.thumbprint,
    });
    // A Hash that does not match the Cert, from the same trusted proxy: refused.
    const tampered = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      localAddress: PROXY,
      headers: {
        authorization: `Bearer ${serviceToken('billing-worker')}`,
        'x-forwarded-client-cert': `Hash=${'0'.repeat(64)};Cert="${encodeURIComponent(billing.cert)}"`,
      },
    });
    await expectRefused(tampered, 'ZT_XFCC_MALFORMED');
  });

  it('binds a token to its certificate (x5t#S256) on every request, cached or not', async () => {
    const token = issuer.sign({ sub: 'alice', cnf: { 'x5t#S256': billing.thumbprint } });
    const headers = { authorization: `Bearer ${token}` };
    const ok = await httpsCall(`${api.url}/me`, { ca: ca.cert, client: billing, headers });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kind: 'user', id: 'alice' });
    // The same token, now a verified-token cache hit, with another certificate or none.
    await expectRefused(
      await httpsCall(`${api.url}/me`, { ca: ca.cert, client: reporting, headers }),
      'ZT_CERTIFICATE_MISMATCH',
    );
    await expectRefused(
      await httpsCall(`${api.url}/me`, { ca: ca.cert, headers }),
      'ZT_CERTIFICATE_REQUIRED',
    );
    const again = await httpsCall(`${api.url}/me`, { ca: ca.cert, client: billing, headers });
    expect(again.status).toBe(200);
  });

  it('lets users without a certificate through (certificates are required for services only)', async () => {
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      headers: { authorization: `Bearer ${issuer.sign({ sub: 'bob' })}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ kind: 'user', id: 'bob', certificate: null });
  });
});
