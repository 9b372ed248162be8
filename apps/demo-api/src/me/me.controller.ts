import { Controller, Get } from '@nestjs/common';
import { Authenticated, CurrentPrincipal, type Principal } from 'nestjs-zero-trust';

/**
 * Who am I: any verified principal. No scope is required: the answer is only the caller's own
 * verified claims, which its token already holds, and users and services alike may ask.
 */
@Controller('me')
export class MeController {
  @Get()
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }
}
