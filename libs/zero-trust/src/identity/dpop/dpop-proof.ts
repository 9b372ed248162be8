import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import type { ZeroTrustErrorCode } from '../../errors/messages.js';
import { DpopError } from '../../errors/zero-trust.error.js';
import { normalizeType } from '../../options/validate-options.js';
import type { ResolvedDpopOptions } from '../../options/validate-options.js';

/**
 * A DPoP proof that passed every check of RFC 9449 §4.3 except the `jti` replay check, which
 * needs the shared store.
 *
 * @internal
 */
export interface CheckedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key, compared with the token's `cnf.jkt`. */
  readonly jkt: string;
  /** The proof's unique identifier. */
  readonly jti: string;
}

/**
 * What the proof must match.
 *
 * @internal
 */
export interface DpopExpectation {
  /** The request method. */
  readonly method: string;
  /** The URLs `htu` may name, normalized by {@link normalizeHtu} (none: every proof fails). */
  readonly htus: readonly string[];
  /** The access token presented with the proof. */
  readonly accessToken: string;
  /** Now, seconds since the epoch. */
  readonly now: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const KEY_TYPES = new Set(['EC', 'RSA', 'OKP']);
const MAX_JTI = 256;

/**
 * Normalizes an `htu` or request URL for comparison (RFC 9449 §4.3 check 9, RFC 3986 §6):
 * lowercase scheme and host, default port dropped, dot segments resolved, query and fragment
 * ignored. Undefined when it is not an absolute http(s) URL.
 *
 * @internal
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * The `ath` value of an access token: base64url SHA-256 of its ASCII bytes.
 *
 * @internal
 */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3): one compact JWS, `typ` `dpop+jwt`, an allowed asymmetric
 * `alg`, a public `jwk` header that verifies the signature, `jti`, `htm` equal to the method,
 * `htu` equal to the request URL at one of the configured public URLs (normalized), `iat` inside the window, `ath` equal to the hash
 * of the access token. Every failure is a 401 `invalid_dpop_proof` naming the failed check,
 * never echoing the proof.
 *
 * @throws {DpopError} `ZT_DPOP_PROOF_INVALID`
 * @internal
 */
export async function checkDpopProof(
  proof: string,
  expected: DpopExpectation,
  options: ResolvedDpopOptions,
): Promise<CheckedDpopProof> {
  const fail = (
    message: string,
    code: ZeroTrustErrorCode = 'ZT_DPOP_PROOF_INVALID',
    cause?: unknown,
  ): DpopError => new DpopError(code, options.algorithms, { message, cause });
  if (proof.length > options.maxProofSize) throw fail('The DPoP proof is too large');
  if (!COMPACT_JWS.test(proof)) throw fail('The DPoP proof is not a compact JWS');
  const [encodedHeader = '', encodedPayload = ''] = proof.split('.');
  const header = decodeJson(encodedHeader);
  if (header === undefined) throw fail('The DPoP proof header is not a JSON object');
  if (typeof header.typ !== 'string' || normalizeType(header.typ) !== 'dpop+jwt')
    throw fail('The DPoP proof typ must be dpop+jwt');
  const alg = header.alg;
  if (typeof alg !== 'string' || !options.algorithms.includes(alg))
    throw fail('The DPoP proof algorithm is not accepted');
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw fail('The DPoP proof has no jwk header');
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in key))
    throw fail('The DPoP proof jwk header must be a public key');
  if (typeof key.kty !== 'string' || !KEY_TYPES.has(key.kty))
    throw fail('The DPoP proof jwk header is not an asymmetric public key');
  let publicKey: Awaited<ReturnType<typeof importJWK>>;
  try {
    publicKey = await importJWK(key as JWK, alg);
  } catch (error) {
    throw fail('The DPoP proof jwk header is not a public key for its algorithm', undefined, error);
  }
  try {
    await compactVerify(proof, publicKey, { algorithms: [alg] });
  } catch (error) {
    throw fail('The DPoP proof signature is invalid', undefined, error);
  }
  const claims = decodeJson(encodedPayload);
  if (claims === undefined) throw fail('The DPoP proof payload is not a JSON object');
  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI)
    throw fail('The DPoP proof jti is missing or invalid');
  if (typeof htm !== 'string' || htm !== expected.method)
    throw fail('The DPoP proof htm does not match the request method');
  const proofHtu = typeof htu === 'string' ? normalizeHtu(htu) : undefined;
  if (proofHtu === undefined || !expected.htus.includes(proofHtu))
    throw fail('The DPoP proof htu does not match the request URL');
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw fail('The DPoP proof iat is missing or invalid');
  if (iat < expected.now - options.iatWindow) throw fail('The DPoP proof is too old');
  if (iat > expected.now + options.clockTolerance)
    throw fail('The DPoP proof is issued in the future');
  if (typeof ath !== 'string' || ath !== accessTokenHash(expected.accessToken))
    throw fail('The DPoP proof ath does not match the access token');
  const jkt = await calculateJwkThumbprint(key, 'sha256');
  return { jkt, jti };
}
