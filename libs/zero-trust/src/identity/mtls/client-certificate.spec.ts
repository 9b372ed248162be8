import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrustedProxies } from '../../context/client-address.js';
import { ZeroTrustConfigurationError } from '../../errors/zero-trust.error.js';
import { validateOptions } from '../../options/validate-options.js';
import {
  TestCertificateAuthority,
  type TestCertificate,
} from '../../testing/test-certificate-authority.js';
import {
  factsOfXfccElement,
  presentedCertificate,
  serviceIdentityOf,
  urisOfSubjectAltName,
} from './client-certificate.js';

/** Why `factsOfXfccElement` refused an element: `ZT_XFCC_MALFORMED`, the reason in its cause. */
function refusal(element: Map<string, string[]>): string {
  try {
    factsOfXfccElement(element);
    return 'accepted';
  } catch (error) {
    const { code, cause } = error as { code?: string; cause?: Error };
    return `${code} (${cause?.message})`;
  }
}

const REQUIRED = { issuer: 'https://issuer.test', audience: 'https://api.test' };

/** The `mtls` option resolved as the module resolves it. */
function mtlsOptions(mtls: unknown) {
  return validateOptions({ ...REQUIRED, mtls }).mtls;
}

describe('client certificates', () => {
  let billing: TestCertificate;
  let proxyCert: TestCertificate;
  beforeAll(async () => {
    const ca = await TestCertificateAuthority.create();
    billing = await ca.issueClient({ uris: ['spiffe://demo.local/billing-worker'] });
    proxyCert = await ca.issueClient({ uris: ['spiffe://demo.local/edge'] });
  });

  it('reads URI SANs from Node rendering, quoted values included', () => {
    expect(urisOfSubjectAltName(undefined)).toEqual([]);
    expect(
      urisOfSubjectAltName(
        'DNS:a.local, URI:spiffe://demo.local/a, IP Address:127.0.0.1, URI:"spiffe://x/a, URI:spiffe://demo.local/b"',
      ),
    ).toEqual(['spiffe://demo.local/a', 'spiffe://x/a, URI:spiffe://demo.local/b']);
    expect(urisOfSubjectAltName(new X509Certificate(billing.cert).subjectAltName)).toEqual([
      'spiffe://demo.local/billing-worker',
    ]);
  });

  it('computes the RFC 8705 thumbprint from an XFCC Cert and checks Hash and URI against it', () => {
    const cert = encodeURIComponent(billing.cert);
    const hash = Buffer.from(billing.thumbprint, 'base64url').toString('hex');
    const facts = factsOfXfccElement(
      new Map([
        ['cert', [cert]],
        ['hash', [hash.toUpperCase()]],
      ]),
    );
    expect(facts).toEqual({
      thumbprint: billing.thumbprint,
      uris: ['spiffe://demo.local/billing-worker'],
      ca: false,
      source: 'xfcc',
    });
    expect(refusal(new Map([['cert', [cert, cert]]]))).toMatch(/^ZT_XFCC_MALFORMED .*repeated/);
    expect(refusal(new Map([['cert', ['%E0%A4%A']]]))).toMatch(/^ZT_XFCC_MALFORMED .*bad Cert/);
    expect(refusal(new Map([['cert', ['not a pem']]]))).toMatch(/^ZT_XFCC_MALFORMED .*bad Cert/);
    expect(
      refusal(
        new Map([
          ['cert', [cert]],
          ['uri', ['spiffe://demo.local/other']],
        ]),
      ),
    ).toMatch(/^ZT_XFCC_MALFORMED .*URI does not match/);
    expect(refusal(new Map([['hash', ['abc']]]))).toMatch(/^ZT_XFCC_MALFORMED .*bad Hash/);
    expect(refusal(new Map([['by', ['x']]]))).toMatch(/^ZT_XFCC_MALFORMED .*neither/);
    // Hash and URI alone (Envoy without the Cert detail).
    expect(
      factsOfXfccElement(
        new Map([
          ['hash', [hash]],
          ['uri', ['spiffe://demo.local/a']],
        ]),
      ),
    ).toMatchObject({ thumbprint: billing.thumbprint, uris: ['spiffe://demo.local/a'] });
  });

  it('believes XFCC only from a trusted peer, and uses its last element', () => {
    const request = (peer: string, xfcc: string) => ({
      socket: { remoteAddress: peer },
      headers: { 'x-forwarded-client-cert': xfcc },
    });
    const header = `URI=spiffe://demo.local/upstream;Hash=${'a'.repeat(64)},Cert="${encodeURIComponent(billing.cert)}"`;
    const proxies = new TrustedProxies(['10.0.0.1']);
    expect(() => presentedCertificate(request('10.0.0.2', header), 'xfcc', proxies)).toThrow(
      expect.objectContaining({ code: 'ZT_XFCC_UNTRUSTED' }),
    );
    // Refused even when the certificate is read from the socket only: only an attacker sends it.
    expect(() => presentedCertificate(request('10.0.0.2', header), 'socket', proxies)).toThrow(
      expect.objectContaining({ code: 'ZT_XFCC_UNTRUSTED' }),
    );
    expect(presentedCertificate(request('10.0.0.1', header), 'xfcc', proxies)?.thumbprint).toBe(
      billing.thumbprint,
    );
    // `both`: the trusted proxy's header wins over the proxy's own certificate on the socket.
    const proxyCertificate = new X509Certificate(proxyCert.cert);
    const viaProxy = {
      socket: {
        remoteAddress: '10.0.0.1',
        authorized: true,
        getPeerX509Certificate: () => proxyCertificate,
      },
      headers: { 'x-forwarded-client-cert': header },
    };
    expect(presentedCertificate(viaProxy, 'both', proxies)?.thumbprint).toBe(billing.thumbprint);
    expect(presentedCertificate(viaProxy, 'socket', proxies)?.thumbprint).toBe(
      proxyCert.thumbprint,
    );
    const { headers: _ignored, ...withoutHeader } = viaProxy;
    expect(
      presentedCertificate({ ...withoutHeader, headers: {} }, 'both', proxies)?.thumbprint,
    ).toBe(proxyCert.thumbprint);
    expect(() => presentedCertificate(request('10.0.0.1', 'By="'), 'xfcc', proxies)).toThrow(
      expect.objectContaining({ code: 'ZT_XFCC_MALFORMED' }),
    );
  });

  it('maps SPIFFE IDs to services, through the map when given', () => {
    const plain = mtlsOptions({ trustDomain: 'demo.local' });
    const mapped = mtlsOptions({
      trustDomain: 'demo.local',
      services: { 'ns/prod/sa/billing': 'billing-worker' },
    });
    if (plain === undefined || mapped === undefined) throw new Error('options refused');
    const plainOptions = plain;
    const mappedOptions = mapped;
    const facts = (uri: string) => ({
      thumbprint: 't',
      uris: [uri],
      ca: false,
      source: 'socket' as const,
    });
    expect(
      serviceIdentityOf(facts('spiffe://demo.local/billing-worker'), plainOptions).service,
    ).toBe('billing-worker');
    expect(
      serviceIdentityOf(facts('spiffe://demo.local/ns/prod/sa/billing'), mappedOptions),
    ).toEqual({
      thumbprint: 't',
      source: 'socket',
      spiffeId: 'spiffe://demo.local/ns/prod/sa/billing',
      service: 'billing-worker',
    });
    expect(
      serviceIdentityOf(facts('spiffe://demo.local/unknown'), mappedOptions).service,
    ).toBeUndefined();
    expect(() => serviceIdentityOf(facts('spiffe://other/billing-worker'), plainOptions)).toThrow(
      expect.objectContaining({ code: 'ZT_SPIFFE_ID_INVALID' }),
    );
  });

  it('validates the mtls option, listing every problem', () => {
    let error: unknown;
    try {
      mtlsOptions({
        trustDomain: 'Demo',
        source: 'header',
        services: { a: 1 },
        requireForServices: 'yes',
        x: 1,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((error as ZeroTrustConfigurationError).problems).toEqual([
      expect.stringContaining('mtls.trustDomain'),
      'mtls.source must be "socket", "xfcc" or "both"',
      expect.stringContaining('mtls.services'),
      'mtls.requireForServices must be a boolean',
      'unknown option "mtls.x"',
    ]);
    expect(mtlsOptions(undefined)).toBeUndefined();
  });
});
