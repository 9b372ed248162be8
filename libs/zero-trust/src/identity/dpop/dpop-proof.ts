import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import { DpopError } from '../../errors/zero-trust.error.js';
import { normalizeType, type ResolvedDpopOptions } from '../../options/validate-options.js';
import { decodeJsonObject } from '../token-header.js';

/**
 * A DPoP proof that passed every check of RFC 9449 §4.3 but the `jti` replay check, which needs
 * the shared store.
 *
 * @internal
 */
export interface CheckedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key, compared with the token's `cnf.jkt`. */
  readonly jkt: string;
  readonly jti: string;
}

/**
 * What the proof must match.
 *
 * @internal
 */
export interface DpopExpectation {
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
 * ignored. Undefined when it is not an absolute http(s) URL without credentials.
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
 * The URLs a DPoP proof's `htu` may name for this request: each configured public URL plus the
 * request path, normalized. Never built from the `Host` or `X-Forwarded-*` headers: a proof made
 * for one host must not be accepted by an instance that answers any Host. Empty for a request
 * target that is not an origin-form path.
 *
 * @internal
 */
export function expectedHtus(
  request: {
    originalUrl?: string;
    url?: string;
    raw?: { url?: unknown; socket?: unknown } | undefined;
  },
  publicUrls: readonly string[],
): string[] {
  // Express's originalUrl survives mounting; Fastify's raw.url is the target as received.
  const target = request.originalUrl ?? request.raw?.url ?? request.url;
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return [];
  const path = target.split(/[?#]/)[0] ?? '/';
  return publicUrls
    .map((base) => normalizeHtu(`${base}${path}`))
    .filter((htu): htu is string => htu !== undefined);
}

/**
 * The `ath` value of an access token: base64url SHA-256 of its ASCII bytes.
 *
 * @internal
 */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3): one compact JWS, `typ` `dpop+jwt`, an allowed asymmetric
 * `alg`, a public `jwk` header that verifies the signature, `jti`, `htm` equal to the method,
 * `htu` equal to the request URL at one of the public URLs, `iat` inside the window, `ath` equal
 * to the hash of the access token. Every failure is a 401 `invalid_dpop_proof` naming the
 * failed check, never echoing the proof.
 *
 * @throws {DpopError} `ZT_DPOP_PROOF_INVALID`
 * @internal
 */
export async function checkDpopProof(
  proof: string,
  expected: DpopExpectation,
  options: ResolvedDpopOptions,
): Promise<CheckedDpopProof> {
  const fail = (check: string, cause?: unknown): DpopError =>
    new DpopError('ZT_DPOP_PROOF_INVALID', options.algorithms, {
      message: `The DPoP proof ${check}`,
      cause,
    });
  if (proof.length > options.maxProofSize) throw fail('is too large');
  if (!COMPACT_JWS.test(proof)) throw fail('is not a compact JWS');
  const [encodedHeader = '', encodedPayload = ''] = proof.split('.');
  const header = decodeJsonObject(encodedHeader);
  if (header === undefined) throw fail('header is not a JSON object');
  if (typeof header.typ !== 'string' || normalizeType(header.typ) !== 'dpop+jwt')
    throw fail('typ must be dpop+jwt');
  const { alg, jwk } = header;
  if (typeof alg !== 'string' || !options.algorithms.includes(alg))
    throw fail('algorithm is not accepted');
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw fail('has no jwk header');
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in key))
    throw fail('jwk header must be a public key');
  if (typeof key.kty !== 'string' || !KEY_TYPES.has(key.kty))
    throw fail('jwk header is not an asymmetric public key');
  let publicKey: Awaited<ReturnType<typeof importJWK>>;
  try {
    publicKey = await importJWK(key as JWK, alg);
  } catch (error) {
    throw fail('jwk header is not a public key for its algorithm', error);
  }
  try {
    await compactVerify(proof, publicKey, { algorithms: [alg] });
  } catch (error) {
    throw fail('signature is invalid', error);
  }
  const claims = decodeJsonObject(encodedPayload);
  if (claims === undefined) throw fail('payload is not a JSON object');
  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI)
    throw fail('jti is missing or invalid');
  if (htm !== expected.method) throw fail('htm does not match the request method');
  const proofHtu = typeof htu === 'string' ? normalizeHtu(htu) : undefined;
  if (proofHtu === undefined || !expected.htus.includes(proofHtu))
    throw fail('htu does not match the request URL');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw fail('iat is missing or invalid');
  if (iat < expected.now - options.iatWindow) throw fail('is too old');
  if (iat > expected.now + options.clockTolerance) throw fail('is issued in the future');
  if (ath !== accessTokenHash(expected.accessToken))
    throw fail('ath does not match the access token');
  return { jkt: await calculateJwkThumbprint(key, 'sha256'), jti };
}
