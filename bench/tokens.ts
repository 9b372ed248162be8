import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';

/** Audience of the demo API, also used by the recipe. */
export const BENCH_AUDIENCE = 'https://invoices.demo.local';

/** What the load generator needs to sign tokens itself. */
export interface SigningMaterial {
  issuer: string;
  kid: string;
  /** PKCS#8 PEM of the ES256 private key. */
  privateKeyPem: string;
}

/**
 * Signs ES256 access tokens for alice (accountant), with the scopes the demo IdP grants her
 * through demo-cli, each with its own `jti`.
 */
export class TokenSigner {
  private readonly key: KeyObject;
  private readonly header: string;

  constructor(private readonly material: SigningMaterial) {
    this.key = createPrivateKey(material.privateKeyPem);
    this.header = Buffer.from(
      JSON.stringify({ alg: 'ES256', kid: material.kid, typ: 'at+jwt' }),
    ).toString('base64url');
  }

  /** A fresh token valid for `lifetime` seconds (at most the library's 900 s default maximum). */
  sign(lifetime = 900): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        iss: this.material.issuer,
        aud: BENCH_AUDIENCE,
        sub: 'alice',
        username: 'alice',
        roles: ['accountant'],
        scope: 'invoices:read invoices:write reports:read revocations:write',
        jti: randomUUID(),
        iat: now,
        exp: now + lifetime,
      }),
    ).toString('base64url');
    const input = `${this.header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: this.key,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');
    return `${input}.${signature}`;
  }
}
