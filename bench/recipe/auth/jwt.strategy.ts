// As in the NestJS docs (Security > Authentication, "Implementing Passport JWT").
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { jwtConstants } from './constants.js';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: jwtConstants.secret,
    });
  }

  validate(payload: { sub: string; username: string; roles?: string[] }): object {
    return {
      userId: payload.sub,
      username: payload.username,
      isAdmin: payload.roles?.includes('admin') === true,
    };
  }
}
