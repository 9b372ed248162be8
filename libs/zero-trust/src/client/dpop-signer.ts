import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';

/**
 * Makes DPoP proofs (RFC 9449 §4.2) with one ES256 key pair, generated in memory and never
 * exported.
 *
 * @publicApi
 */
export class DpopSigner {
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { kty: string; crv: string; x: string; y: string };
  /** The RFC 7638 SHA-256 thumbprint of the public key, the token's `cnf.jkt`. */
  readonly thumbprint: string;
  /** The last `DPoP-Nonce` of each origin. */
  private readonly nonces = new Map<string, string>();

  /** @param privateKey - a P-256 private key; a fresh one when omitted */
  constructor(privateKey?: KeyObject) {
    this.privateKey = privateKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwk = createPublicKey(this.privateKey).export({ format: 'jwk' });
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
      throw new TypeError('DPoP needs a P-256 (ES256) private key');
    }
    this.publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
    // RFC 7638: the required members in lexicographic order, no whitespace.
    const canonical = JSON.stringify({ crv: 'P-256', kty: 'EC', x: jwk.x, y: jwk.y });
    this.thumbprint = createHash('sha256').update(canonical).digest('base64url');
  }

  /**
   * Records the `DPoP-Nonce` a server sent for `url`, for the next proofs to its origin.
   *
   * @returns whether it is a nonce the origin had not given before
   */
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
    const target = new URL(url);
    const htu = `${target.origin}${target.pathname}`;
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: this.publicJwk };
    const payload: Record<string, unknown> = {
      jti: randomUUID(),
      htm: method.toUpperCase(),
      htu,
      iat: Math.floor((options.now ?? Date.now()) / 1000),
    };
    if (options.accessToken !== undefined) {
      payload.ath = createHash('sha256').update(options.accessToken).digest('base64url');
    }
    const nonce = options.nonce ?? this.nonces.get(target.origin);
    if (nonce !== undefined) payload.nonce = nonce;
    const input = `${encode(header)}.${encode(payload)}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: this.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${signature.toString('base64url')}`;
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
