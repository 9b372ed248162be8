import {
  constants,
  createHash,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

/** The algorithms the library signs JWS with (DPoP proofs, test tokens). @internal */
export type JwsAlgorithm = 'ES256' | 'RS256' | 'PS256';

/** A signing key pair and its public JWK. @internal */
export interface JwsKey {
  readonly alg: JwsAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: JsonWebKey;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS; `signature` replaces the signature segment as is. @internal */
export function signJws(
  alg: JwsAlgorithm,
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

/** What a DPoP proof says besides its key; the optional members override the defaults. @internal */
export interface DpopProofParts {
  method: string;
  url: string | URL;
  accessToken?: string;
  iat?: number;
  jti?: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
  signWith?: KeyObject;
  signature?: string;
}

/** A DPoP proof (RFC 9449 §4.2) for one request: `htu` without query and fragment. @internal */
export function dpopProof(key: JwsKey, parts: DpopProofParts): string {
  const url = new URL(parts.url);
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...parts.header };
  const payload: Record<string, unknown> = {
    jti: parts.jti ?? randomUUID(),
    htm: parts.method,
    htu: `${url.origin}${url.pathname}`,
    iat: parts.iat ?? Math.floor(Date.now() / 1000),
  };
  if (parts.accessToken !== undefined)
    payload.ath = createHash('sha256').update(parts.accessToken, 'ascii').digest('base64url');
  Object.assign(payload, parts.claims);
  for (const name of parts.omit ?? []) delete payload[name];
  return signJws(key.alg, parts.signWith ?? key.privateKey, header, payload, parts.signature);
}
