import {
  constants,
  createHash,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

/** Algorithms the testing kit signs with. @publicApi */
export type TestIssuerAlgorithm = 'ES256' | 'RS256' | 'PS256';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS; `signature` replaces the signature segment as is. @internal */
export function signJws(
  alg: TestIssuerAlgorithm,
  key: KeyObject,
  header: object,
  payload: object,
  signature?: string,
): string {
  const input = `${encode(header)}.${encode(payload)}`;
  const options = {
    ES256: { key, dsaEncoding: 'ieee-p1363' as const },
    PS256: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    RS256: key,
  }[alg];
  return `${input}.${signature ?? sign('sha256', Buffer.from(input), options).toString('base64url')}`;
}

/** RFC 7638 thumbprint of a public JWK (EC, RSA or OKP), base64url SHA-256. @publicApi */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'RSA'
        ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A DPoP key pair for tests: the private key signs proofs, `jkt` goes into `cnf`. @publicApi */
export interface DpopKey {
  readonly alg: TestIssuerAlgorithm;
  readonly privateKey: KeyObject;
  /** The public JWK put in the proof header. */
  readonly publicJwk: JsonWebKey;
  /** RFC 7638 SHA-256 thumbprint of the public key: the token's `cnf.jkt`. */
  readonly jkt: string;
}

/** Options of {@link createDpopProof}; the overrides make hostile proofs. @publicApi */
export interface DpopProofOptions {
  key: DpopKey;
  /** HTTP method (`htm`). */
  method: string;
  /** Request URL (`htu`, without query and fragment). */
  url: string;
  /** The access token the proof goes with (`ath`). */
  accessToken?: string;
  /** `iat`, seconds since the epoch. @default now */
  iat?: number;
  /** `jti`. @default a random UUID */
  jti?: string;
  /** Header parameters to add or override (e.g. `{ typ: 'JWT' }`, `{ alg: 'none' }`). */
  header?: Record<string, unknown>;
  /** Claims to add or override. */
  claims?: Record<string, unknown>;
  /** Claims to remove (e.g. `['ath']`). */
  omit?: string[];
  /** Sign with this key instead (a proof whose signature does not match its `jwk`). */
  signWith?: KeyObject;
  /** Use this signature segment as is (e.g. `''` for `alg: none`). */
  signature?: string;
}

/** Creates a DPoP proof JWT (RFC 9449 §4.2) for one request. @publicApi */
export function createDpopProof(options: DpopProofOptions): string {
  const { key } = options;
  const url = new URL(options.url);
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header };
  const payload: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.method,
    htu: `${url.origin}${url.pathname}`,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined)
    payload.ath = createHash('sha256').update(options.accessToken, 'ascii').digest('base64url');
  Object.assign(payload, options.claims);
  for (const name of options.omit ?? []) delete payload[name];
  return signJws(key.alg, options.signWith ?? key.privateKey, header, payload, options.signature);
}
