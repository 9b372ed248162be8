import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { compact } from '../utils/compact.js';
import { createDpopProof, jwkThumbprint, type DpopKey } from '../utils/jws.js';

/** Makes DPoP proofs (RFC 9449 §4.2) with one ES256 key pair, never exported. @publicApi */
export class DpopSigner {
  private readonly key: DpopKey;
  /** The RFC 7638 SHA-256 thumbprint of the public key, the token's `cnf.jkt`. */
  readonly thumbprint: string;
  /** The last `DPoP-Nonce` of each origin. */
  private readonly nonces = new Map<string, string>();

  /** @param privateKey - a P-256 private key; a fresh one when omitted */
  constructor(privateKey?: KeyObject) {
    privateKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
    if (publicJwk.kty !== 'EC' || publicJwk.crv !== 'P-256')
      throw new TypeError('DPoP needs a P-256 (ES256) private key');
    this.thumbprint = jwkThumbprint(publicJwk);
    this.key = { alg: 'ES256', privateKey, publicJwk, jkt: this.thumbprint };
  }

  /** Records the `DPoP-Nonce` a server sent for `url`; whether the origin gave a new one. */
  rememberNonce(url: string | URL, nonce: string | null | undefined): boolean {
    const origin = new URL(url).origin;
    if (!nonce || this.nonces.get(origin) === nonce) return false;
    this.nonces.set(origin, nonce);
    return true;
  }

  /**
   * A proof for one request to `url` (`htu` without query and fragment). `accessToken` adds
   * `ath`; `nonce` defaults to the last one of the origin; `now` is in milliseconds.
   */
  proof(
    method: string,
    url: string | URL,
    options: { accessToken?: string; nonce?: string; now?: number } = {},
  ): string {
    const nonce = options.nonce ?? this.nonces.get(new URL(url).origin);
    return createDpopProof({
      key: this.key,
      method: method.toUpperCase(),
      url: String(url),
      accessToken: options.accessToken,
      iat: Math.floor((options.now ?? Date.now()) / 1000),
      claims: compact({ nonce }),
    });
  }
}
