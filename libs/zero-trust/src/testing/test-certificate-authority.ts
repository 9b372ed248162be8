import { createHash, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

let loaded: Promise<typeof X509> | undefined;

// The optional dependency, loaded on first use: the rest of the testing kit works without it.
function loadX509(): Promise<typeof X509> {
  loaded ??= (async () => {
    await import('reflect-metadata'); // its DI container (tsyringe) needs the polyfill
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return loaded;
}

/** A certificate and its private key, both PEM, for `https.createServer` or `fetch`. @publicApi */
export interface TestCertificate {
  readonly cert: string;
  /** The private key (PKCS #8), PEM. */
  readonly key: string;
  readonly der: Buffer;
  /** RFC 8705 thumbprint: base64url SHA-256 of the DER certificate (`cnf["x5t#S256"]`). */
  readonly thumbprint: string;
}

/** Options of {@link TestCertificateAuthority.issueClient}. @publicApi */
export interface ClientCertificateOptions {
  /** URI SANs, e.g. `['spiffe://demo.local/billing-worker']`. */
  uris?: string[];
  /** Subject common name. @default 'test-client' */
  commonName?: string;
  /** Make the leaf a CA certificate (a hostile SVID). @default false */
  ca?: boolean;
}

/** A throwaway ECDSA P-256 CA for mTLS and SPIFFE tests (needs `@peculiar/x509`). @publicApi */
export class TestCertificateAuthority {
  private constructor(
    private readonly x509: typeof X509,
    private readonly issuer: Issued,
    /** The CA certificate, PEM: the trust bundle to give servers and clients. */
    readonly cert: string,
  ) {}

  /** Creates a new CA with a fresh key. */
  static async create(name = 'nestjs-zero-trust test CA'): Promise<TestCertificateAuthority> {
    const x509 = await loadX509();
    const issued = await issue(x509, name, true, []);
    return new TestCertificateAuthority(x509, issued, issued.certificate.toString('pem'));
  }

  /** A server certificate for `localhost` and `127.0.0.1`. */
  issueServer(commonName = 'localhost'): Promise<TestCertificate> {
    return this.leaf(commonName, false, this.x509.ExtendedKeyUsage.serverAuth, [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
    ]);
  }

  /** A client certificate, usually with one SPIFFE ID as its URI SAN. */
  issueClient(options: ClientCertificateOptions = {}): Promise<TestCertificate> {
    return this.leaf(
      options.commonName ?? 'test-client',
      options.ca ?? false,
      this.x509.ExtendedKeyUsage.clientAuth,
      (options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    );
  }

  private async leaf(
    commonName: string,
    ca: boolean,
    usage: X509.ExtendedKeyUsage,
    names: X509.JsonGeneralName[],
  ): Promise<TestCertificate> {
    const x509 = this.x509;
    const extensions: X509.Extension[] = [new x509.ExtendedKeyUsageExtension([usage])];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const { certificate, keys } = await issue(x509, commonName, ca, extensions, this.issuer);
    const der = Buffer.from(certificate.rawData);
    return {
      cert: certificate.toString('pem'),
      key: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
      der,
      thumbprint: createHash('sha256').update(der).digest('base64url'),
    };
  }
}

interface Issued {
  certificate: X509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

/** A certificate with a fresh key, valid a day either side of now, self-signed without `issuer`. */
async function issue(
  x509: typeof X509,
  commonName: string,
  ca: boolean,
  extensions: X509.Extension[],
  issuer?: Issued,
): Promise<Issued> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const { keyCertSign, cRLSign, digitalSignature } = x509.KeyUsageFlags;
  const subject = `CN=${commonName}`;
  const serial = randomBytes(8).toString('hex');
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.replace(/^[89a-f]/, '1'), // positive
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    subject,
    issuer: issuer?.certificate.subject ?? subject,
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: (issuer?.keys ?? keys).privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(ca, undefined, true),
      ca
        ? new x509.KeyUsagesExtension(keyCertSign | cRLSign, true)
        : new x509.KeyUsagesExtension(digitalSignature, true),
      issuer
        ? await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate)
        : await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...extensions,
    ],
  });
  return { certificate, keys };
}
