import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy, type VerifiedCallback } from 'passport-jwt';
import { InvalidTokenError, ZeroTrustError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { JWT_STRATEGY_NAME, ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { checkClaims, toPrincipal } from './claims.js';
import { JwksKeySource } from './jwks-key-source.js';
import type { Principal } from './principal.interface.js';
import { checkTokenHeader } from './token-header.js';

/** Where a run of the strategy carries the token it verifies. */
export const RAW_TOKEN = Symbol('zero-trust:raw-token');
/** Where a run of the strategy leaves the key that verified the token. */
export const VERIFYING_KEY = Symbol('zero-trust:verifying-key');

/**
 * One run of the strategy: a per-request object whose prototype is the strategy (the
 * passport-strategy contract). passport-jwt calls its token extractor and key provider as
 * methods of it, so they read the token from it and leave the key on it; the request object
 * itself is not touched.
 *
 * @internal
 */
export type TokenRun = {
  [RAW_TOKEN]?: string;
  [VERIFYING_KEY]?: KeyObject;
};

/**
 * Maps an error of the signature verifier (jsonwebtoken, behind passport-jwt) to a stable code.
 * Its own messages are never passed on: some echo the expected audience or issuer.
 *
 * @internal
 */
export function toTokenError(error: unknown): ZeroTrustError {
  if (error instanceof ZeroTrustError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : '';
  if (name === 'TokenExpiredError') return new InvalidTokenError('ZT_TOKEN_EXPIRED');
  if (name === 'NotBeforeError') return new InvalidTokenError('ZT_TOKEN_NOT_YET_VALID');
  if (message === 'invalid signature' || message === 'jwt signature is required')
    return new InvalidTokenError('ZT_TOKEN_SIGNATURE_INVALID');
  if (message.startsWith('jwt audience invalid'))
    return new InvalidTokenError('ZT_TOKEN_AUDIENCE_INVALID');
  if (message.startsWith('jwt issuer invalid'))
    return new InvalidTokenError('ZT_TOKEN_ISSUER_INVALID');
  if (message === 'invalid algorithm' || message.startsWith('secretOrPublicKey must be'))
    return new InvalidTokenError('ZT_TOKEN_ALGORITHM_REJECTED');
  if (message === 'invalid nbf value' || message === 'invalid exp value')
    return new InvalidTokenError('ZT_TOKEN_CLAIM_INVALID');
  if (message === 'jwt malformed' || message === 'invalid token' || message === 'invalid payload')
    return new InvalidTokenError('ZT_TOKEN_MALFORMED');
  return new InvalidTokenError('ZT_TOKEN_INVALID');
}

/**
 * The passport-jwt strategy that verifies access tokens.
 *
 * Before the signature is computed, the header is checked (size, compact form, algorithm
 * allowlist, `typ`, `crit`, untrusted key headers) and the key is chosen from the issuer's
 * JWKS by `kid` and algorithm. passport-jwt (jsonwebtoken) then verifies the signature, `iss`,
 * `aud`, `exp` and `nbf`; `validate` checks the remaining claims, maps the principal and asks
 * the revocation store.
 *
 * @internal
 */
@Injectable()
export class ZeroTrustJwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY_NAME) {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    keys: JwksKeySource,
  ) {
    super({
      jwtFromRequest: function (this: TokenRun) {
        return this[RAW_TOKEN] ?? null;
      },
      // passport-jwt hands the key to jsonwebtoken, which accepts a KeyObject.
      secretOrKeyProvider: function (
        this: TokenRun,
        _req: unknown,
        rawToken: string,
        done: (err: unknown, key?: string) => void,
      ) {
        let header;
        try {
          header = checkTokenHeader(rawToken, options);
        } catch (error) {
          done(error);
          return;
        }
        keys.getKey(header.kid, header.alg).then(
          (key) => {
            this[VERIFYING_KEY] = key;
            done(null, key as unknown as string);
          },
          (error: unknown) => done(error),
        );
      },
      issuer: options.issuer,
      audience: options.audience.length === 1 ? options.audience[0] : options.audience,
      algorithms: [...options.algorithms],
      ignoreExpiration: false,
      passReqToCallback: true,
      jsonWebTokenOptions: { clockTolerance: options.clockTolerance },
    });
  }

  /** Called by passport-jwt with the verified payload: the remaining claim checks and the principal. */
  validate(_req: unknown, payload: unknown, _done?: VerifiedCallback): Principal {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
    }
    const claims = checkClaims(
      payload as Record<string, unknown>,
      this.options,
      Math.floor(Date.now() / 1000),
    );
    return toPrincipal(claims, this.options);
  }
}
