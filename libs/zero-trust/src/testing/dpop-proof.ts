import { jwkThumbprint, type DpopKey } from '../utils/jws.js';
import { keyPairFor, type TestIssuerAlgorithm } from './test-issuer.js';

export {
  createDpopProof,
  jwkThumbprint,
  type DpopKey,
  type DpopProofOptions,
} from '../utils/jws.js';

/** Generates a DPoP key pair (ES256 by default, or RS256/PS256 with RSA-2048). @publicApi */
export function createDpopKey(alg: TestIssuerAlgorithm = 'ES256'): DpopKey {
  const { privateKey, publicJwk } = keyPairFor(alg);
  return { alg, privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) };
}
