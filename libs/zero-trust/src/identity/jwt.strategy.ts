import type { OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import jwt from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { InvalidTokenError, ZeroTrustError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { checkClaims, toPrincipal } from './claims.js';
import { JwksKeySource } from './jwks-key-source.js';
import { checkToken } from './token-header.js';
import type { VerifiedToken } from './verified-token.cache.js';

/** What passport runs the strategy on (never the request): the token, and its key. @internal */
export interface TokenAttempt {
  readonly token: string;
  key?: KeyObject;
}

/** Maps a jsonwebtoken failure to a code; its messages may echo `aud` or `iss`. @internal */
export function toTokenError(error: unknown): ZeroTrustError {
  if (error instanceof ZeroTrustError) return error;
  if (error instanceof jwt.TokenExpiredError) return new InvalidTokenError('ZT_TOKEN_EXPIRED');
  if (error instanceof jwt.NotBeforeError) return new InvalidTokenError('ZT_TOKEN_NOT_YET_VALID');
  if (error instanceof jwt.JsonWebTokenError)
    return new InvalidTokenError('ZT_TOKEN_SIGNATURE_INVALID');
  return new InvalidTokenError('ZT_TOKEN_INVALID');
}

let registered = 0;

/** Injection token of the module instance's strategy ({@link createJwtStrategy}). @internal */
export const JWT_STRATEGY = Symbol('zero-trust:jwt-strategy');

/** Registers this module instance's passport-jwt strategy, under its own name. @internal */
export function createJwtStrategy(
  options: ResolvedZeroTrustOptions,
  keys: JwksKeySource,
): Strategy & OnModuleDestroy {
  const name = `zero-trust-jwt-${++registered}`;
  const keyFor = async (token: string): Promise<KeyObject> => {
    const { kid, alg } = checkToken(token, options);
    return keys.getKey(kid, alg);
  };
  class ZeroTrustJwtStrategy extends PassportStrategy(Strategy, name) implements OnModuleDestroy {
    constructor() {
      super({
        jwtFromRequest: (attempt: TokenAttempt) => attempt.token,
        secretOrKeyProvider: (
          attempt: TokenAttempt,
          token: string,
          done: (error: unknown, key?: string) => void,
        ) =>
          void keyFor(token).then((key) => {
            attempt.key = key;
            // jsonwebtoken accepts a KeyObject; passport-jwt's types say string.
            done(null, key as unknown as string);
          }, done),
        algorithms: [...options.algorithms],
        passReqToCallback: true,
        jsonWebTokenOptions: { clockTolerance: options.clockTolerance },
      });
      this.name = name;
    }

    validate(attempt: TokenAttempt, payload: Record<string, unknown>): VerifiedToken {
      if (attempt.key === undefined) throw new InvalidTokenError();
      return { principal: toPrincipal(checkClaims(payload, options), options), key: attempt.key };
    }

    onModuleDestroy(): void {
      passport.unuse(name);
    }
  }
  return new ZeroTrustJwtStrategy();
}
