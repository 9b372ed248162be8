import { TestCertificateAuthority, type TestCertificate } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_AUDIENCE } from '../../apps/demo-api/src/config.js';
import { readMutualTlsSettings } from '../../apps/demo-api/src/mtls.js';
import { DEMO_SERVICES } from '../../apps/demo-api/src/policies.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from '../support/demo-api.js';
import { httpsCall, startIdentityApi, type RunningIdentityApi } from '../support/identity-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from '../support/identity.js';

/*
 * Certificate-bound tokens (RFC 8705) and service identities (SPIFFE X.509-SVIDs) under attack,
 * with the real demo IdP: billing-worker's client-credentials token is bound to its certificate
 * (cnf.x5t#S256). Each case asserts 401 with a Bearer invalid_token challenge, one deny event
 * with the same code, and no 5xx. SECURITY.md maps the ids.
 */
const INVALID_TOKEN = /^Bearer error="invalid_token", error_description="[^"]+"$/;
const BILLING = 'spiffe://demo.local/billing-worker';
/** The only trusted proxy of the lenient listener: direct callers (127.0.0.1) are not. */
const PROXY = '127.0.0.2';

interface Answer {
  status: number;
  body: { code?: string; id?: unknown };
  challenge: string | null | undefined;
}

function expectRefused(
  answer: Answer,
  sink: { events: { decision: string; code?: string; action: string }[] },
  code: string,
  action = 'authn_token_invalid',
): void {
  expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 401, code });
  expect(answer.challenge).toMatch(INVALID_TOKEN);
  const denied = sink.events.filter((e) => e.decision === 'deny');
  expect(denied).toHaveLength(1);
  expect(denied[0]).toMatchObject({ code, action });
}

describe.each(ADAPTERS)('certificate-bound tokens and service identities (%s)', (adapter) => {
  let idp: TestIdentityProvider;
  let api: RunningApi;
  /** requestCert without rejectUnauthorized, XFCC believed from PROXY only: the library decides. */
  let lenient: RunningIdentityApi;
  let foreign: TestCertificate;
  let billingToken: string;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    api = await startDemoApi(
      { issuer: idp.issuer, adapter },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
    lenient = await startIdentityApi({
      adapter,
      ca: { cert: idp.pki.caCert },
      server: idp.pki.workloads['demo-api'],
      zeroTrust: {
        issuer: idp.issuer,
        audience: DEMO_API_AUDIENCE,
        principals: { services: DEMO_SERVICES },
        trustedProxies: [PROXY],
        mtls: { trustDomain: 'demo.local', source: 'both' },
      },
    });
    foreign = await (
      await TestCertificateAuthority.create('another CA')
    ).issueClient({ uris: [BILLING] });
    billingToken = await idp.serviceToken('billing-worker');
  }, 60_000);
  afterAll(async () => {
    await lenient?.close();
    await api?.close();
    await idp?.stop();
  });

  /** GET /me at the demo, on the mTLS listener when `tls` is given; events of this call only. */
  async function demoCall(token: string, tls?: ReturnType<typeof workloadTls>): Promise<Answer> {
    api.sink.events.length = 0;
    const answer = await call(api, 'GET', '/me', { token, ...(tls ? { tls } : {}) });
    return { ...answer, challenge: answer.headers.get('www-authenticate') };
  }

  /** GET /me at the lenient listener; events of this call only. */
  function lenientCall(options: Omit<Parameters<typeof httpsCall>[1], 'ca'>): Promise<Answer> {
    lenient.sink.events.length = 0;
    return httpsCall(`${lenient.url}/me`, { ca: idp.pki.caCert, ...options });
  }

  it('accepts the certificate-bound token with its own certificate (the cases can fail)', async () => {
    expect(billingToken.split('.')[1]).toBeDefined();
    const answer = await demoCall(billingToken, workloadTls(idp));
    expect({ status: answer.status, id: answer.body.id }).toEqual({
      status: 200,
      id: 'billing-worker',
    });
    const direct = await lenientCall({
      client: idp.pki.workloads['billing-worker'],
      headers: { authorization: `Bearer ${billingToken}` },
    });
    expect(direct.status).toBe(200);
  });

  it('MTLS-NO-CERT: refuses the certificate-bound token without its certificate', async () => {
    expectRefused(await demoCall(billingToken), api.sink, 'ZT_CERTIFICATE_REQUIRED');
  });

  it("MTLS-OTHER-CERT: refuses it with another workload's certificate", async () => {
    expectRefused(
      await demoCall(billingToken, workloadTls(idp, 'reporting-service')),
      api.sink,
      'ZT_CERTIFICATE_MISMATCH',
    );
  });

  it('MTLS-OTHER-CA: refuses a certificate of another CA (same SPIFFE ID) at the handshake and in the library', async () => {
    api.sink.events.length = 0;
    await expect(
      demoCall(billingToken, { key: foreign.key, cert: foreign.cert, ca: idp.pki.caCert }),
    ).rejects.toThrow('fetch failed');
    expect(api.sink.events).toHaveLength(0);
    // Where TLS lets it through (requestCert without rejectUnauthorized), the library refuses.
    expectRefused(
      await lenientCall({ client: foreign, headers: { authorization: `Bearer ${billingToken}` } }),
      lenient.sink,
      'ZT_CERTIFICATE_UNTRUSTED',
    );
  });

  it('XFCC-FORGED: refuses a forged X-Forwarded-Client-Cert on a direct connection', async () => {
    const own = idp.pki.workloads['billing-worker'];
    const forged = `By=spiffe://demo.local/proxy;Cert="${encodeURIComponent(own.cert)}";URI=${BILLING}`;
    expectRefused(
      await lenientCall({
        headers: { authorization: `Bearer ${billingToken}`, 'x-forwarded-client-cert': forged },
      }),
      lenient.sink,
      'ZT_XFCC_UNTRUSTED',
      'malicious_extraneous',
    );
    // The same header from the trusted proxy is believed: the forgery is what was refused.
    const proxied = await lenientCall({
      localAddress: PROXY,
      headers: { authorization: `Bearer ${billingToken}`, 'x-forwarded-client-cert': forged },
    });
    expect(proxied.status).toBe(200);
  });

  it("SVC-CROSS-CERT: refuses reporting-service's token presented with billing-worker's certificate", async () => {
    const reporting = await idp.serviceToken('reporting-service');
    expectRefused(
      await demoCall(reporting, workloadTls(idp)),
      api.sink,
      'ZT_CERTIFICATE_SERVICE_MISMATCH',
    );
    // Its own way in (client secret, no certificate) still works: the certificate made the refusal.
    expect((await demoCall(reporting)).status).toBe(200);
  });
});
