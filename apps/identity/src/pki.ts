/**
 * The demo's development PKI: one CA and one certificate per workload, each an X.509-SVID with
 * the SPIFFE ID `spiffe://demo.local/<workload>`. Generated at the IdP's first start in
 * `<dataDir>/pki/` (git-ignored), reused afterwards. ECDSA P-256 keys, made with WebCrypto and
 * `@peculiar/x509` (pure JavaScript, no openssl needed).
 *
 * For development only: the CA key sits next to the certificates it signs.
 */
import { webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** The SPIFFE trust domain of the demo. */
export const DEMO_TRUST_DOMAIN = 'demo.local';

/** The demo's workloads, each with its own certificate. */
export const DEMO_WORKLOADS = [
  'identity',
  'demo-api',
  'billing-worker',
  'reporting-service',
] as const;

/** One workload of {@link DEMO_WORKLOADS}. */
export type DemoWorkload = (typeof DEMO_WORKLOADS)[number];

/** A workload's key pair and certificate, PEM. */
export interface WorkloadCredentials {
  /** `spiffe://demo.local/<workload>`, the certificate's only URI SAN. */
  readonly spiffeId: string;
  /** PKCS#8 private key, PEM. */
  readonly key: string;
  /** The certificate, PEM. */
  readonly cert: string;
  /** Where they are stored. */
  readonly keyPath: string;
  readonly certPath: string;
}

/** The loaded development PKI. */
export interface DemoPki {
  /** The directory holding the files (`<dataDir>/pki`). */
  readonly dir: string;
  /** The CA certificate, PEM: the trust bundle of every demo server and client. */
  readonly caCert: string;
  readonly caCertPath: string;
  /** Per-workload credentials. */
  readonly workloads: Readonly<Record<DemoWorkload, WorkloadCredentials>>;
  /** Whether the files were created by this call. */
  readonly generated: boolean;
}

/** The SPIFFE ID of a demo workload. */
export function spiffeIdOf(workload: string): string {
  return `spiffe://${DEMO_TRUST_DOMAIN}/${workload}`;
}

/** The PKI directory inside an IdP data directory. */
export function pkiDir(dataDir: string): string {
  return join(dataDir, 'pki');
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

x509.cryptoProvider.set(webcrypto);

/**
 * Loads the PKI from `<dataDir>/pki`, generating the CA and every certificate when any file is
 * missing or unreadable, or a certificate expires within a week.
 */
export async function loadOrCreatePki(dataDir: string): Promise<DemoPki> {
  const dir = pkiDir(dataDir);
  const existing = await readPki(dir);
  if (existing) return existing;
  await generatePki(dir);
  const created = await readPki(dir);
  if (!created) throw new Error(`could not read the PKI just written to ${dir}`);
  return { ...created, generated: true };
}

/**
 * Reads a PKI written by {@link loadOrCreatePki} without generating anything (for the demo API
 * and the billing worker).
 *
 * @throws Error naming the directory when it is incomplete
 */
export async function readDemoPki(dataDir: string): Promise<DemoPki> {
  const pki = await readPki(pkiDir(dataDir));
  if (!pki) {
    throw new Error(
      `no development PKI in ${pkiDir(dataDir)}: start the identity provider first (it creates it)`,
    );
  }
  return pki;
}

async function readPki(dir: string): Promise<DemoPki | undefined> {
  const read = (name: string): Promise<string | undefined> =>
    readFile(join(dir, name), 'utf8').catch(() => undefined);
  const caCert = await read('ca.crt');
  if (!caCert) return undefined;
  const workloads = {} as Record<DemoWorkload, WorkloadCredentials>;
  for (const workload of DEMO_WORKLOADS) {
    const [key, cert] = await Promise.all([read(`${workload}.key`), read(`${workload}.crt`)]);
    if (!key || !cert) return undefined;
    try {
      const parsed = new NodeX509Certificate(cert);
      if (new Date(parsed.validTo).getTime() - Date.now() < 7 * DAY_MS) return undefined;
    } catch {
      return undefined;
    }
    workloads[workload] = {
      spiffeId: spiffeIdOf(workload),
      key,
      cert,
      keyPath: join(dir, `${workload}.key`),
      certPath: join(dir, `${workload}.crt`),
    };
  }
  return { dir, caCert, caCertPath: join(dir, 'ca.crt'), workloads, generated: false };
}

async function generatePki(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Demo development CA, O=nestjs-zero-trust demo',
    keys: caKeys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * DAY_MS),
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const files: [string, string][] = [['ca.key', await pkcs8Pem(caKeys.privateKey)]];
  for (const workload of DEMO_WORKLOADS) {
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=${workload}, O=nestjs-zero-trust demo`,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 365 * DAY_MS),
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(
          [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
          false,
        ),
        // Exactly one URI SAN (the SPIFFE ID); loopback names so a workload can also serve TLS.
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: spiffeIdOf(workload) },
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
      ],
    });
    files.push([`${workload}.key`, await pkcs8Pem(keys.privateKey)]);
    files.push([`${workload}.crt`, cert.toString('pem')]);
  }
  // The CA certificate last: its presence marks a complete set.
  files.push(['ca.crt', ca.toString('pem')]);
  for (const [name, content] of files) {
    const path = join(dir, name);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${content.trim()}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  }
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----`;
}
