import type { JsonWebKey, KeyObject } from 'node:crypto';

import { dpopProof, jwkThumbprint } from '../utils/jws.js';
import { keyPairFor, type TestIssuerAlgorithm } from './test-issuer.js';

export { jwkThumbprint };

/**
 * A DPoP key pair for tests: the private key signs proofs, `jkt` goes into the token's `cnf`.
 *
 * @publicApi
 */
export interface DpopKey {
  readonly alg: TestIssuerAlgorithm;
  readonly privateKey: KeyObject;
  /** The public JWK put in the proof header. */
  readonly publicJwk: JsonWebKey;
  /** RFC 7638 SHA-256 thumbprint of the public key: the token's `cnf.jkt`. */
  readonly jkt: string;
}

/**
 * Options of {@link createDpopProof}: the defaults make a valid proof, the overrides hostile ones.
 *
 * @publicApi
 */
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

/** Generates a DPoP key pair (ES256 by default, or RS256/PS256 with RSA-2048). @publicApi */
export function createDpopKey(alg: TestIssuerAlgorithm = 'ES256'): DpopKey {
  const { privateKey, publicJwk } = keyPairFor(alg);
  return { alg, privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) };
}

/** Creates a DPoP proof JWT (RFC 9449 §4.2) for one request. @publicApi */
export function createDpopProof(options: DpopProofOptions): string {
  return dpopProof(options.key, options);
}
