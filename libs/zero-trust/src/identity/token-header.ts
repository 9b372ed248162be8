import { InvalidTokenError } from '../errors/zero-trust.error.js';
import { normalizeType, type ResolvedZeroTrustOptions } from '../options/validate-options.js';

/** Compact JWS: three base64url segments, the signature possibly empty (then refused). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Header parameters that could point verification at an attacker's key: never trusted. */
const UNTRUSTED_HEADERS = ['jku', 'x5u', 'x5c', 'jwk'] as const;
const NUMERIC_CLAIMS = ['exp', 'iat', 'nbf', 'auth_time'] as const;

/**
 * The protected header of a token that passed {@link checkToken}.
 *
 * @internal
 */
export interface CheckedHeader {
  readonly alg: string;
  readonly kid: string | undefined;
}

/**
 * A base64url JOSE segment decoded, when it is a JSON object.
 *
 * @internal
 */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function decodeObject(segment: string): Record<string, unknown> {
  const value = decodeJsonObject(segment);
  if (value === undefined) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  return value;
}

/**
 * Checks a raw token before any key is looked up or any signature computed: size, compact
 * serialization, algorithm allowlist, `typ`, `crit`, untrusted key headers, and JSON objects as
 * header and payload whose time claims are numbers. (jsonwebtoken would refuse most of these
 * too, but with one error class for all: here each gets its own code.)
 *
 * @throws {InvalidTokenError} with the code of the first failed check
 * @internal
 */
export function checkToken(token: string, options: ResolvedZeroTrustOptions): CheckedHeader {
  if (token.length > options.maxTokenSize) throw new InvalidTokenError('ZT_TOKEN_TOO_LARGE');
  if (!COMPACT_JWS.test(token)) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
  const [encodedHeader = '', encodedPayload = ''] = token.split('.');
  const h = decodeObject(encodedHeader);
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
  const payload = decodeObject(encodedPayload);
  for (const name of NUMERIC_CLAIMS) {
    const value = payload[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value)))
      throw new InvalidTokenError('ZT_TOKEN_CLAIM_INVALID', {
        message: `The ${name} claim must be a number`,
      });
  }
  return { alg: h.alg, kid: h.kid };
}
