import { InvalidTokenError } from '../errors/zero-trust.error.js';
import { normalizeType, type ResolvedZeroTrustOptions } from '../options/validate-options.js';

/** Compact JWS: three base64url segments, the signature possibly empty (then refused later). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Header parameters that could point verification at an attacker's key: never trusted. */
const UNTRUSTED_HEADERS = ['jku', 'x5u', 'x5c', 'jwk'] as const;

/**
 * The protected header of a token that passed the structural checks.
 *
 * @internal
 */
export interface CheckedHeader {
  readonly alg: string;
  readonly kid: string | undefined;
}

/**
 * Checks a raw token before any key is looked up or any signature computed: size, compact
 * serialization, a JSON object header, algorithm allowlist, `typ`, `crit`, untrusted key headers.
 *
 * @throws {InvalidTokenError} with the code of the first failed check
 * @internal
 */
export function checkTokenHeader(token: string, options: ResolvedZeroTrustOptions): CheckedHeader {
  if (token.length > options.maxTokenSize) throw new InvalidTokenError('ZT_TOKEN_TOO_LARGE');
  if (!COMPACT_JWS.test(token)) {
    throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  }
  const checked = checkHeader(token.slice(0, token.indexOf('.')), options);
  if (token.endsWith('.')) throw new InvalidTokenError('ZT_TOKEN_SIGNATURE_INVALID');
  return checked;
}

/** The checks of the protected header alone (everything but the token's form and size). */
function checkHeader(encoded: string, options: ResolvedZeroTrustOptions): CheckedHeader {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  }
  const h = header as Record<string, unknown>;
  if (typeof h.alg !== 'string' || !(options.algorithms as readonly string[]).includes(h.alg)) {
    throw new InvalidTokenError('ZT_TOKEN_ALGORITHM_REJECTED');
  }
  for (const name of UNTRUSTED_HEADERS) {
    if (name in h) throw new InvalidTokenError('ZT_TOKEN_HEADER_REJECTED');
  }
  // No extension is understood, so any `crit` (RFC 7515 §4.1.11) makes the token unacceptable.
  if ('crit' in h) throw new InvalidTokenError('ZT_TOKEN_CRIT_UNSUPPORTED');
  if ('b64' in h) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  const typ =
    h.typ === undefined ? '' : typeof h.typ === 'string' ? normalizeType(h.typ) : undefined;
  if (typ === undefined || !options.tokenTypes.includes(typ))
    throw new InvalidTokenError('ZT_TOKEN_TYPE_INVALID');
  if (h.kid !== undefined && (typeof h.kid !== 'string' || h.kid.length === 0)) {
    throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  }
  return Object.freeze({ alg: h.alg, kid: typeof h.kid === 'string' ? h.kid : undefined });
}
