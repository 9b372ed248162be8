import {
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { ZeroTrustError } from '../errors/zero-trust.error.js';

/** What was wrong with a logout token or a SET, as each receiver's spec names it. @internal */
export type RefusalKind =
  'request' | 'issuer' | 'audience' | 'key' | 'authentication' | 'unavailable';

/** A refused logout token or SET: the answer's status and kind, and a description safe to show. */
export class SignalRefusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    description: string,
    readonly replay = false,
  ) {
    super(description);
  }
}

/** Header parameters that could point verification at an attacker's key: never trusted. */
const UNTRUSTED_HEADERS = ['jku', 'x5u', 'x5c', 'jwk'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What a signal token is checked against, besides its signature and size. @internal */
export type SignalTokenRules = Required<
  Pick<
    JWTVerifyOptions,
    | 'typ'
    | 'issuer'
    | 'audience'
    | 'algorithms'
    | 'requiredClaims'
    | 'maxTokenAge'
    | 'clockTolerance'
  >
> & { readonly maxSize: number };

/** A verified signal token's claims: `iat` and `jti` are always required. @internal */
export type SignalClaims = JWTPayload & { iat: number; jti: string };

/**
 * Verifies a compact JWS (a logout token or a SET) with keys from `getKey`, or throws a
 * {@link SignalRefusal} that never echoes a value of the token. @internal
 */
export async function verifySignalToken(
  token: string,
  getKey: JWTVerifyGetKey,
  rules: SignalTokenRules,
): Promise<SignalClaims> {
  const { maxSize, ...checks } = rules;
  if (token.length > maxSize) throw new SignalRefusal('request', 'the token is too large');
  if (!COMPACT_JWS.test(token)) throw new SignalRefusal('request', 'the token is not a signed JWT');
  const trustedKey: JWTVerifyGetKey = (header, input) => {
    if (UNTRUSTED_HEADERS.some((name) => name in header))
      throw new SignalRefusal('key', 'the token header names a key source that is never trusted');
    return getKey(header, input);
  };
  try {
    const { payload } = await jwtVerify(token, trustedKey, checks);
    // jose checked `requiredClaims`, and that `iat` is a number.
    if (typeof payload.jti !== 'string') throw new SignalRefusal('request', 'the "jti" is invalid');
    return payload as SignalClaims;
  } catch (error) {
    throw refusalOf(error);
  }
}

function refusalOf(error: unknown): SignalRefusal {
  if (error instanceof SignalRefusal) return error;
  if (error instanceof ZeroTrustError)
    return error.getStatus() === 503
      ? new SignalRefusal('unavailable', "the issuer's keys are unavailable")
      : new SignalRefusal('key', 'the token was not signed by a known key');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new SignalRefusal('issuer', 'the token has another issuer');
    if (error.claim === 'aud')
      return new SignalRefusal('audience', 'the token is meant for another audience');
    return new SignalRefusal('request', `the "${error.claim}" of the token is missing or invalid`);
  }
  if (error instanceof errors.JWTExpired)
    return new SignalRefusal('request', 'the token has expired');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return new SignalRefusal('key', 'the token was not signed by a known key');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new SignalRefusal('key', 'the token signature is invalid');
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new SignalRefusal('request', 'the token signing algorithm is not accepted');
  // jose reports a key set answered with another status than 200 as a plain JOSEError.
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    !(error instanceof errors.JOSEError) ||
    error.constructor === errors.JOSEError
  )
    // A key set that cannot be fetched: the sender retries later.
    return new SignalRefusal('unavailable', "the sender's keys are unavailable");
  return new SignalRefusal('request', 'the token is malformed');
}
