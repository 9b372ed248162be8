import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { decodeJwt } from 'jose';
import { TestCertificateAuthority } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from './support/identity.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * A second certificate for `spiffe://demo.local/<workload>` signed by the demo's development
 * CA (its key is in `<dataDir>/pki/ca.key`): the same identity with another key pair, as a
 * stolen token's holder who obtained a certificate of the CA would present.
 */
async function issueWithDemoCa(
  dataDir: string,
  workload: string,
): Promise<{ key: string; cert: string }> {
  const dir = join(dataDir, 'pki');
  const [caPem, caKeyPem] = await Promise.all([
    readFile(join(dir, 'ca.crt'), 'utf8'),
    readFile(join(dir, 'ca.key'), 'utf8'),
  ]);
  const ca = new x509.X509Certificate(caPem);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(caKeyPem),
    ALGORITHM,
    false,
    ['sign'],
  );
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${workload} (second key)`,
    issuer: ca.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 60 * 60 * 1000),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: `spiffe://demo.local/${workload}` },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { key: x509.PemConverter.encode(der, 'PRIVATE KEY'), cert: cert.toString('pem') };
}

const thumbprintOf = (pem: string): string =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

/**
 * The demo API's mutual-TLS listener (`API_MTLS_PORT`) with the demo IdP's real tokens and the
 * development PKI. The handshake without a certificate, the happy path of billing-worker and the
 * ledger audience are covered in service-token-client.e2e-spec.ts and billing-worker.e2e-spec.ts;
 * this file covers the certificates that must not get through.
 */
describe.each(ADAPTERS)("demo API's mutual-TLS listener (%s)", (adapter) => {
  let idp: TestIdentityProvider;
  let api: RunningApi;
  let workerToken: string;
  const payment = { invoiceId: 'inv-2', amount: 5 };

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    api = await startDemoApi(
      { issuer: idp.issuer, adapter },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
    workerToken = await idp.serviceToken('billing-worker');
  });
  afterAll(async () => {
    await api?.close();
    await idp?.stop();
  });

  it('never completes the handshake with a certificate from another CA', async () => {
    const foreignCa = await TestCertificateAuthority.create('not the demo CA');
    const foreign = await foreignCa.issueClient({ uris: ['spiffe://demo.local/billing-worker'] });
    const tls = { key: foreign.key, cert: foreign.cert, ca: idp.pki.caCert };
    await expect(
      call(api, 'POST', '/payments', { token: workerToken, body: payment, tls }),
    ).rejects.toThrow('fetch failed');
    // Control: the worker's own certificate over the same listener.
    const own = await call(api, 'POST', '/payments', {
      token: workerToken,
      body: payment,
      tls: workloadTls(idp),
    });
    expect(own.status).toBe(201);
  });

  it("refuses billing-worker's token presented with reporting-service's certificate", async () => {
    const reporting = idp.pki.workloads['reporting-service'];
    const answer = await call(api, 'POST', '/payments', {
      token: workerToken,
      body: payment,
      tls: { key: reporting.key, cert: reporting.cert, ca: idp.pki.caCert },
    });
    expect(answer.status).toBe(401);
    // The binding (cnf.x5t#S256) is checked first: the token names another certificate.
    expect(answer.body.code).toBe('ZT_CERTIFICATE_MISMATCH');
    expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(api.sink.last()).toMatchObject({ decision: 'deny', code: answer.body.code });
  });

  it("refuses reporting-service's token presented with billing-worker's certificate", async () => {
    const token = await idp.serviceToken('reporting-service');
    const answer = await call(api, 'GET', '/reports/revenue', { token, tls: workloadTls(idp) });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('ZT_CERTIFICATE_SERVICE_MISMATCH');
    // Control: with its own certificate, reporting-service reads the report.
    const reporting = idp.pki.workloads['reporting-service'];
    const own = await call(api, 'GET', '/reports/revenue', {
      token,
      tls: { key: reporting.key, cert: reporting.cert, ca: idp.pki.caCert },
    });
    expect(own.status).toBe(200);
    // The decision record names the client and the certificate the token is bound to.
    expect(api.sink.last()).toMatchObject({
      decision: 'allow',
      principal: { kind: 'service', id: 'reporting-service', client: 'reporting-service' },
      binding: { certificate: thumbprintOf(reporting.cert) },
    });
  });

  it('refuses the certificate-bound token with another certificate of the same service', async () => {
    const second = await issueWithDemoCa(idp.dataDir, 'billing-worker');
    const bound = (decodeJwt(workerToken).cnf as Record<string, unknown>)['x5t#S256'];
    expect(bound).toBe(thumbprintOf(idp.pki.workloads['billing-worker'].cert));
    expect(thumbprintOf(second.cert)).not.toBe(bound);

    const answer = await call(api, 'POST', '/payments', {
      token: workerToken,
      body: payment,
      tls: { ...second, ca: idp.pki.caCert },
    });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('ZT_CERTIFICATE_MISMATCH');
    expect(api.sink.last()).toMatchObject({ decision: 'deny', code: 'ZT_CERTIFICATE_MISMATCH' });

    // A token the IdP binds to that second certificate is accepted with it: the CA is trusted,
    // the binding decides.
    const { clientCredentialsWithCertificate } = await import('../apps/identity/src/client.js');
    const rebound = await clientCredentialsWithCertificate({
      issuer: idp.issuer,
      clientId: 'billing-worker',
      tls: { ...second, ca: idp.pki.caCert },
    });
    const ok = await call(api, 'POST', '/payments', {
      token: rebound.access_token,
      body: payment,
      tls: { ...second, ca: idp.pki.caCert },
    });
    expect(ok.status).toBe(201);
  });
});
