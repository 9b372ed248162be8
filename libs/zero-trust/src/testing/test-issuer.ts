import { createServer, type ServerResponse } from 'node:http';
import {
  generateKeyPairSync,
  randomUUID,
  sign as cryptoSign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * Algorithms a {@link TestIssuer} can sign with.
 *
 * @publicApi
 */
export type TestIssuerAlgorithm = 'ES256' | 'RS256' | 'PS256';

/**
 * Options of {@link TestIssuer.start}.
 *
 * @publicApi
 */
export interface TestIssuerOptions {
  /** Audience put in tokens by default. @default 'https://api.test.local' */
  audience?: string;
  /** Signing algorithm of the initial key. @default 'ES256' */
  algorithm?: TestIssuerAlgorithm;
  /** Default token lifetime in seconds. @default 300 */
  lifetime?: number;
  /**
   * Claims put in every token, e.g. `{ scope: 'invoices:read' }` for an API whose routes
   * require scopes. Claims given to {@link TestIssuer.sign} override them; its `omit` removes
   * them. @default none
   */
  claims?: Record<string, unknown>;
}

/**
 * Options of {@link TestIssuer.sign}.
 *
 * @publicApi
 */
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

type IssuerKeyPair = ReturnType<typeof keyPairFor> & { kid: string; alg: TestIssuerAlgorithm };

function generate(alg: TestIssuerAlgorithm): IssuerKeyPair {
  return { kid: randomUUID(), alg, ...keyPairFor(alg) };
}

/** @internal `header.payload`, each JSON in base64url. */
export function signingInput(header: unknown, payload: unknown): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${b64(header)}.${b64(payload)}`;
}

/**
 * Signs `header.payload` with `key` for `alg`, returning the base64url signature.
 *
 * @internal
 */
export function signJws(alg: TestIssuerAlgorithm, key: KeyObject, input: string): string {
  const data = Buffer.from(input);
  if (alg === 'ES256')
    return cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  if (alg === 'PS256')
    return cryptoSign('sha256', data, {
      key,
      padding: 6 /* RSA_PKCS1_PSS_PADDING */,
      saltLength: 32,
    }).toString('base64url');
  return cryptoSign('sha256', data, key).toString('base64url');
}

/**
 * A local OAuth issuer for tests: serves an OpenID Connect discovery document and a JWKS on
 * 127.0.0.1, and signs access tokens with any claims and headers, including hostile ones.
 * Point `ZeroTrustModule` at `issuer.url` and `issuer.audience`.
 *
 * @example
 * ```ts
 * const issuer = await TestIssuer.start({ audience: 'https://api.test' });
 * const token = issuer.sign({ sub: 'alice', roles: ['admin'] });
 * // ... ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience, ... })
 * await issuer.close();
 * ```
 * @publicApi
 */
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
   * Signs an access token. Defaults: `iss`, `aud`, `sub: 'test-user'`, `jti`, `iat` now,
   * `exp` now + lifetime, the issuer's `claims` option, header `{ alg, kid, typ: 'at+jwt' }`.
   * Claims given override them.
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
    const input = signingInput(header, payload);
    const alg = (
      typeof header.alg === 'string' && ['ES256', 'RS256', 'PS256'].includes(header.alg)
        ? header.alg
        : current.alg
    ) as TestIssuerAlgorithm;
    return `${input}.${signJws(alg, options.key ?? current.privateKey, input)}`;
  }

  /**
   * Adds a new signing key (used from now on) and keeps the old ones published, like an
   * issuer rolling its keys. Pass `{ dropOld: true }` to unpublish the previous keys.
   */
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
      json(200, {
        issuer: this.url,
        jwks_uri: `${this.url}/jwks`,
        token_endpoint: `${this.url}/token`,
      });
    } else if (url === '/jwks') {
      this.jwksRequests += 1;
      if (!this.available) {
        json(503, { error: 'unavailable' });
        return;
      }
      json(200, {
        keys: this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })),
      });
    } else {
      json(404, { error: 'not_found' });
    }
  }
}
