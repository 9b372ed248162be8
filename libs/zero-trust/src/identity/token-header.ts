import { decodeJwt, decodeProtectedHeader } from 'jose';
import { InvalidTokenError } from '../errors/zero-trust.error.js';
import { normalizeType, type ResolvedZeroTrustOptions } from '../options/validate-options.js';

/** Compact JWS: three base64url segments, the signature possibly empty (then refused). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Header parameters that could point verification at an attacker's key: never trusted. */
const UNTRUSTED_HEADERS = ['jku', 'x5u', 'x5c', 'jwk'] as const;
const NUMERIC_CLAIMS = ['exp', 'iat', 'nbf', 'auth_time'] as const;

/** A segment decoded by jose, a JSON object, or `ZT_TOKEN_MALFORMED`. */
function decoded(decode: () => object): Record<string, unknown> {
  try {
    return decode() as Record<string, unknown>;
  } catch {
    throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  }
}

/** Checks a raw token's form and header before any key is looked up, by code. @internal */
export function checkToken(
  token: string,
  options: ResolvedZeroTrustOptions,
): { readonly alg: string; readonly kid: string | undefined } {
  if (token.length > options.maxTokenSize) throw new InvalidTokenError('ZT_TOKEN_TOO_LARGE');
  if (!COMPACT_JWS.test(token)) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  const h = decoded(() => decodeProtectedHeader(token));
  if (typeof h.alg !== 'string' || !(options.algorithms as readonly string[]).includes(h.alg))
    throw new InvalidTokenError('ZT_TOKEN_ALGORITHM_REJECTED');
  if (UNTRUSTED_HEADERS.some((name) => name in h))
    throw new InvalidTokenError('ZT_TOKEN_HEADER_REJECTED');
  // No extension is understood, so any `crit` (RFC 7515 §4.1.11) makes the token unacceptable.
  if ('crit' in h) throw new InvalidTokenError('ZT_TOKEN_CRIT_UNSUPPORTED');
  if ('b64' in h) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  const typ =
    h.typ === undefined ? '' : typeof h.typ === 'string' ? normalizeType(h.typ) : undefined;
  if (typ === undefined || !options.tokenTypes.includes(typ))
    throw new InvalidTokenError('ZT_TOKEN_TYPE_INVALID');
  if (h.kid !== undefined && (typeof h.kid !== 'string' || h.kid.length === 0))
    throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  if (token.endsWith('.')) throw new InvalidTokenError('ZT_TOKEN_SIGNATURE_INVALID');
  const payload = decoded(() => decodeJwt(token));
  for (const name of NUMERIC_CLAIMS) {
    const value = payload[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value)))
      throw new InvalidTokenError('ZT_TOKEN_CLAIM_INVALID', {
        message: `The ${name} claim must be a number`,
      });
  }
  return { alg: h.alg, kid: h.kid };
}
