import { createServer, type ServerResponse } from 'node:http';
import { generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import { signJws, type TestIssuerAlgorithm } from '../utils/jws.js';

export type { TestIssuerAlgorithm };

/** Options of {@link TestIssuer.start}. @publicApi */
export interface TestIssuerOptions {
  /** Audience put in tokens by default. @default 'https://api.test.local' */
  audience?: string;
  /** Signing algorithm of the initial key. @default 'ES256' */
  algorithm?: TestIssuerAlgorithm;
  /** Default token lifetime in seconds. @default 300 */
  lifetime?: number;
  /** Claims put in every token, under those given to {@link TestIssuer.sign}. @default none */
  claims?: Record<string, unknown>;
}

/** Options of {@link TestIssuer.sign}. @publicApi */
export interface SignOptions {
  /** Header parameters to add or override (e.g. `{ typ: 'JWT' }`, `{ kid: 'other' }`). */
  header?: Record<string, unknown>;
  /** Header parameters to remove (e.g. `['typ']`). */
  omitHeader?: string[];
  /** Claims to remove from the defaults (e.g. `['jti']`). */
  omit?: string[];
  /** Sign with this key instead of the issuer's current key (its kid stays unless overridden). */
  key?: KeyObject;
}

/** @internal A key pair for `alg`: P-256, or RSA-2048. */
export function keyPairFor(alg: TestIssuerAlgorithm) {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) };
}

const generate = (alg: TestIssuerAlgorithm) => ({ kid: randomUUID(), alg, ...keyPairFor(alg) });
type IssuerKeyPair = ReturnType<typeof generate>;

/** A test OAuth issuer on 127.0.0.1 (discovery, JWKS) signing any token, hostile too. @publicApi */
export class TestIssuer {
  /** Number of times the JWKS was fetched. */
  jwksRequests = 0;
  /** When false, the JWKS endpoint answers 503 (simulates an outage). */
  available = true;
  /** Default audience of signed tokens. */
  readonly audience: string;
  private readonly lifetime: number;
  private readonly claims: Readonly<Record<string, unknown>>;
  private keys: [IssuerKeyPair, ...IssuerKeyPair[]];
  private readonly server = createServer((req, res) => this.handle(req.url ?? '/', res));
  private port = 0;

  private constructor(options: TestIssuerOptions) {
    this.audience = options.audience ?? 'https://api.test.local';
    this.lifetime = options.lifetime ?? 300;
    this.claims = { ...options.claims };
    this.keys = [generate(options.algorithm ?? 'ES256')];
  }

  /** Starts an issuer on a random loopback port. */
  static async start(options: TestIssuerOptions = {}): Promise<TestIssuer> {
    const issuer = new TestIssuer(options);
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    issuer.port = (issuer.server.address() as AddressInfo).port;
    return issuer;
  }

  /** The issuer identifier and base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The current signing key's `kid`. */
  get kid(): string {
    return this.keys[0].kid;
  }

  /** The current signing key's algorithm. */
  get algorithm(): TestIssuerAlgorithm {
    return this.keys[0].alg;
  }

  /** The public JWK of the current key (for attacks such as HMAC key confusion). */
  get publicJwk(): JsonWebKey {
    return { ...this.keys[0].publicJwk };
  }

  /**
   * Signs an access token: `iss`, `aud`, `sub: 'test-user'`, `jti`, `iat`, `exp`, the `claims`
   * option, then `claims`; header `{ alg, kid, typ: 'at+jwt' }`.
   */
  sign(claims: Record<string, unknown> = {}, options: SignOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const current = this.keys[0];
    const payload: Record<string, unknown> = {
      iss: this.url,
      aud: this.audience,
      sub: 'test-user',
      jti: randomUUID(),
      iat: now,
      exp: now + this.lifetime,
      ...this.claims,
      ...claims,
    };
    for (const name of options.omit ?? []) delete payload[name];
    const header: Record<string, unknown> = {
      alg: current.alg,
      kid: current.kid,
      typ: 'at+jwt',
      ...options.header,
    };
    for (const name of options.omitHeader ?? []) delete header[name];
    const named = header.alg as TestIssuerAlgorithm;
    const alg = ['ES256', 'RS256', 'PS256'].includes(named) ? named : current.alg;
    return signJws(alg, options.key ?? current.privateKey, header, payload);
  }

  /** Signs with a new key from now on, keeping the old ones published unless `dropOld`. */
  rotate(options: { algorithm?: TestIssuerAlgorithm; dropOld?: boolean } = {}): void {
    const next = generate(options.algorithm ?? this.algorithm);
    this.keys = options.dropOld ? [next] : [next, ...this.keys];
  }

  /** Stops the server. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private handle(url: string, res: ServerResponse): void {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url === '/.well-known/openid-configuration') {
      const { url: issuer } = this;
      json(200, { issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` });
    } else if (url === '/jwks') {
      this.jwksRequests += 1;
      const keys = this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' }));
      if (this.available) json(200, { keys });
      else json(503, { error: 'unavailable' });
    } else json(404, { error: 'not_found' });
  }
}
