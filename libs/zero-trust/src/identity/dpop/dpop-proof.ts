import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
} from 'jose';
import { targetOf, type HttpRequestLike } from '../../context/request-context.js';
import { DpopError } from '../../errors/zero-trust.error.js';
import { normalizeType, type ResolvedDpopOptions } from '../../options/validate-options.js';

/** What the proof must match. @internal */
export interface DpopExpectation {
  readonly method: string;
  /** The URLs `htu` may name, normalized by {@link normalizeHtu} (none: every proof fails). */
  readonly htus: readonly string[];
  readonly accessToken: string;
  /** Now, seconds since the epoch. */
  readonly now: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const KEY_TYPES = new Set(['EC', 'RSA', 'OKP']);
const MAX_JTI = 256;

/** Normalizes an absolute http(s) `htu` or request URL (RFC 3986 §6), no query. @internal */
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

/** The URLs `htu` may name: the public URLs plus the request path, never `Host`. @internal */
export function expectedHtus(request: HttpRequestLike, publicUrls: readonly string[]): string[] {
  const target = targetOf(request);
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return [];
  const path = target.split(/[?#]/)[0] ?? '/';
  return publicUrls
    .map((base) => normalizeHtu(`${base}${path}`))
    .filter((htu): htu is string => htu !== undefined);
}

/** The `ath` of an access token: base64url SHA-256 of its ASCII bytes. @internal */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/** Checks a DPoP proof (RFC 9449 §4.3) but its `jti` replay; returns `jkt` and `jti`. @internal */
export async function checkDpopProof(
  proof: string,
  expected: DpopExpectation,
  options: ResolvedDpopOptions,
): Promise<{ readonly jkt: string; readonly jti: string }> {
  const fail = (check: string, cause?: unknown): DpopError =>
    new DpopError('ZT_DPOP_PROOF_INVALID', options.algorithms, {
      message: `The DPoP proof ${check}`,
      cause,
    });
  const attempt = async <T>(check: string, step: () => T | Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      throw fail(check, error);
    }
  };
  if (proof.length > options.maxProofSize) throw fail('is too large');
  if (!COMPACT_JWS.test(proof)) throw fail('is not a compact JWS');
  const header = await attempt('header is not a JSON object', () => decodeProtectedHeader(proof));
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
  const publicKey = await attempt('jwk header is not a public key for its algorithm', () =>
    importJWK(key as JWK, alg),
  );
  await attempt('signature is invalid', () =>
    compactVerify(proof, publicKey, { algorithms: [alg] }),
  );
  const claims = await attempt('payload is not a JSON object', () => decodeJwt(proof));
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
